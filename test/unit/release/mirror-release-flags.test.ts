import { describe, expect, it } from 'vitest';
import { hostReleaseArch, planRelease } from '../../../functions/cli/mirror-release.js';

// `ferry mirror --release` without switches (issue 10, WRKLDS-296): every default, and each overridable alone.

describe('ferry mirror --release: defaults and overrides', () => {
  it('a version alone: the host arch from quay.io/openshift-release-dev to localhost:443/openshift<version>', () => {
    const plan = planRelease({ release: '4.17.3' });
    const tagArch = { amd64: 'x86_64', arm64: 'aarch64', ppc64le: 'ppc64le', s390x: 's390x' }[
      hostReleaseArch() as 'amd64'
    ];
    expect(plan.release).toBe(`quay.io/openshift-release-dev/ocp-release:4.17.3-${tagArch}`);
    expect(plan.to).toBe('localhost:443/openshift4.17.3');
    expect(plan.set.platform).toEqual({ release: plan.release, channels: [], architectures: [hostReleaseArch()] });
    expect([plan.set.additionalImages, plan.set.repositories, plan.set.blockedImages]).toEqual([[], [], []]);
  });

  it('maps Node architectures to release ones, anything else to amd64', () => {
    expect(['x64', 'arm64', 'ppc64', 's390x', 'ia32', 'riscv64'].map(hostReleaseArch)).toEqual([
      'amd64',
      'arm64',
      'ppc64le',
      's390x',
      'amd64',
      'amd64',
    ]);
  });

  it('takes each override on its own: --arch, --from, --to, --channel', () => {
    expect(planRelease({ release: '4.16.0', arch: 'arm64' }).release).toBe(
      'quay.io/openshift-release-dev/ocp-release:4.16.0-aarch64',
    );
    expect(planRelease({ release: '4.16.0', arch: 'amd64', from: 'mirror.example/ocp/' }).release).toBe(
      'mirror.example/ocp/ocp-release:4.16.0-x86_64',
    );
    expect(planRelease({ release: '4.16.0', to: 'registry.example:5000/ocp' }).to).toBe('registry.example:5000/ocp');
    const channel = planRelease({ release: true, channel: 'stable-4.17', arch: 's390x' });
    expect(channel.release).toBeUndefined();
    expect(channel.to).toBe('localhost:443/openshift-stable-4.17');
    expect(channel.set.platform).toEqual({ channels: [{ name: 'stable-4.17' }], architectures: ['s390x'] });
  });

  it.each([
    [{ release: true as const }, /needs a VERSION .* or --channel/],
    [{ release: '4.17.3', channel: 'stable-4.17' }, /VERSION or --channel, not both/],
    [{ release: 'latest' }, /--release latest: not a release version/],
    [{ release: '4.17.3', arch: 'x86_64' }, /--arch x86_64: one of amd64, arm64, ppc64le, s390x, multi/],
    [{ release: true as const, channel: 'Stable 4' }, /--channel Stable 4: not a channel name/],
    [{ release: '4.17.3', from: 'Not A Registry' }, /^--from Not A Registry: /],
  ])('refuses %j with a usage error naming the flag', (flags, message) => {
    expect(() => planRelease(flags)).toThrow(
      expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(message) }),
    );
  });
});
