import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { buildImage, buildIndex, push, remoteDigest, Rng } from '../support/fixtures.js';
import { basicHeader } from '../support/engine.js';
import { cleanEnv, repoRoot, runFerry } from '../support/cli.js';
import { api, startService, waitForRun } from '../support/service.js';

// Issue 7 points 10 and 12: what a first real user of the CLI hits.

const { seed, src, dst, basic } = inject('registries');
const rng = new Rng(seed + 72);
const repo = (name: string): string => `first/${name}-${rng.int(1e9)}`;
const auth = basicHeader(basic.username, basic.password);
const oneLine = (stderr: string): string[] => stderr.trim().split('\n');

describe('ferry --version', () => {
  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await runFerry([flag]);
      expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });
});

describe('credentials kept out of the process table', () => {
  const secretFile = (content: string): string => {
    const path = join(mkdtempSync(join(tmpdir(), 'ferry-creds-')), 'creds');
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  };
  const userPass = `${basic.username}:${basic.password}`;

  it('reads FERRY_SRC_CREDS and FERRY_DEST_CREDS from the environment (htpasswd registry both ways)', async () => {
    const name = repo('env');
    const image = buildImage({ layers: [rng.bytes(3000)] });
    await push(src.url, name, 'v1', image);

    const anonymous = await runFerry(['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`]);
    expect(anonymous.code, anonymous.stderr).toBe(1);

    const into = await runFerry(
      ['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`],
      cleanEnv({ FERRY_DEST_CREDS: userPass }),
    );
    expect(into.code, into.stderr).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v1', auth)).toBe(image.digest);

    const back = await runFerry(
      ['copy', `${basic.host}/${name}:v1`, `${dst.host}/${name}:v1`],
      cleanEnv({ FERRY_SRC_CREDS: userPass }),
    );
    expect(back.code, back.stderr).toBe(0);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('reads --src-creds-file and --dest-creds-file (one USER:PASS line), which win over the environment', async () => {
    const name = repo('file');
    const image = buildImage({ layers: [rng.bytes(3000)] });
    await push(src.url, name, 'v1', image);
    const file = secretFile(`${userPass}\n`);
    const wrongEnv = cleanEnv({ FERRY_SRC_CREDS: 'alice:wrong', FERRY_DEST_CREDS: 'alice:wrong' });

    const into = await runFerry(
      ['copy', '--dest-creds-file', file, `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`],
      wrongEnv,
    );
    expect(into.code, into.stderr).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v1', auth)).toBe(image.digest);

    const back = await runFerry(
      ['copy', '--src-creds-file', file, `${basic.host}/${name}:v1`, `${dst.host}/${name}:v1`],
      wrongEnv,
    );
    expect(back.code, back.stderr).toBe(0);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);

    // The environment alone (wrong here) is what a run without the file uses.
    const envOnly = await runFerry(['copy', `${basic.host}/${name}:v1`, `${dst.host}/${name}:again`], wrongEnv);
    expect(envOnly.code).toBe(1);
    expect(oneLine(envOnly.stderr)).toHaveLength(1);
  });

  it('refuses a flag and a file for the same side, and a file that is not USER:PASS (usage errors, exit 2)', async () => {
    const both = await runFerry([
      'copy',
      '--src-creds',
      userPass,
      '--src-creds-file',
      secretFile(userPass),
      `${basic.host}/x:v1`,
      `${dst.host}/x:v1`,
    ]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--src-creds and --src-creds-file are both set');
    const garbage = secretFile('no-colon-here\n');
    const bad = await runFerry(['copy', '--dest-creds-file', garbage, `${src.host}/x:v1`, `${basic.host}/x:v1`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--dest-creds-file ${garbage} must be USER:PASS`);
    expect(bad.stderr).not.toContain('no-colon-here');
  });
});

describe('--platform never copies another platform silently', () => {
  const amd64 = () => buildImage({ layers: [rng.bytes(2000)], platform: { os: 'linux', architecture: 'amd64' } });

  it('fails (exit 1) on a single-platform image of another platform, naming the platform it has, and writes nothing', async () => {
    const name = repo('single');
    const image = amd64();
    await push(src.url, name, 'v1', image);
    const result = await runFerry([
      'copy',
      '--platform',
      'linux/arm64',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:v1`,
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(
      `${src.host}/${name}: no manifest for linux/arm64 (available: linux/amd64 only, not a multi-platform index)`,
    );
    expect(await remoteDigest(dst.url, name, 'v1')).toBeUndefined();

    // Its own platform copies, digest unchanged and no note.
    const own = await runFerry([
      'copy',
      '--platform',
      'linux/amd64',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:v1`,
    ]);
    expect(own.code, own.stderr).toBe(0);
    expect(own.stderr).toBe('');
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
  });

  it('says an artifact has no platform', async () => {
    const name = repo('artifact');
    const chart = buildImage({
      layers: [rng.bytes(500)],
      configMediaType: 'application/vnd.cncf.helm.config.v1+json',
      config: Buffer.from('{"name":"chart"}'),
    });
    await push(src.url, name, 'v1', chart);
    const result = await runFerry([
      'copy',
      '--platform',
      'linux/amd64',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:v1`,
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain(
      'no manifest for linux/amd64 (it has no platform: an artifact, config application/vnd.cncf.helm.config.v1+json)',
    );
  });

  it('copies one platform out of an index without claiming to build a new index; several build one and say so; all keep the digest', async () => {
    const name = repo('index');
    const arm64 = buildImage({ layers: [rng.bytes(2000)], platform: { os: 'linux', architecture: 'arm64' } });
    const x86 = amd64();
    const index = buildIndex([
      { image: x86, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm64, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    await push(src.url, name, 'v1', index);

    const missing = await runFerry([
      'copy',
      '--platform',
      'linux/s390x',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:s390x`,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no manifest for linux/s390x (available: linux/amd64, linux/arm64)');

    const one = await runFerry([
      'copy',
      '--platform',
      'linux/arm64',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:arm64`,
    ]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).not.toContain('new index');
    expect(one.stdout).toContain(arm64.digest);
    expect(await remoteDigest(dst.url, name, 'arm64')).toBe(arm64.digest);

    const all = await runFerry([
      'copy',
      '--platform',
      'linux/arm64',
      '--platform',
      'linux/amd64',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:all`,
    ]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toBe('');
    expect(await remoteDigest(dst.url, name, 'all')).toBe(index.digest);

    const armv7 = buildImage({
      layers: [rng.bytes(2000)],
      platform: { os: 'linux', architecture: 'arm', variant: 'v7' },
    });
    const three = buildIndex([
      ...index.children.map((image, i) => ({
        image,
        platform: i === 0 ? { os: 'linux', architecture: 'amd64' } : { os: 'linux', architecture: 'arm64' },
      })),
      { image: armv7, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    ]);
    await push(src.url, name, 'v3', three);
    const two = await runFerry([
      'copy',
      '--platform',
      'linux/arm64',
      '--platform',
      'linux/arm/v7',
      `${src.host}/${name}:v3`,
      `${dst.host}/${name}:two`,
    ]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stderr).toMatch(
      /^ferry: note: --platform built a new index; its digest sha256:[0-9a-f]{64} differs from the source's\n$/,
    );
  });

  describe('in runs of the service', () => {
    let server: RunningServer;
    beforeAll(async () => {
      server = await startService();
    });
    afterAll(() => server.close());

    it('fails the image with a message naming the platforms the source has', async () => {
      const name = repo('service');
      await push(src.url, name, 'v1', amd64());
      const started = await api(server.url, 'POST', '/v1/runs', {
        images: [`${src.host}/${name}:v1`],
        destination: { registry: dst.host },
        platforms: ['linux/arm64'],
      });
      expect(started.status, started.text).toBe(202);
      const run = await waitForRun(server.url, (started.json as { runId: string }).runId);
      const [image] = Object.values(run.images);
      expect(image).toMatchObject({ status: 'failed' });
      expect(image?.message).toContain('no manifest for linux/arm64 (available: linux/amd64 only');
      expect(await remoteDigest(dst.url, name, 'v1')).toBeUndefined();
    });
  });
});

describe("--retry-times (skopeo's spelling)", () => {
  it('retries a failing request that many times: 0 gives up at the first 503, 2 gets past two', async () => {
    const { startFaultProxy } = await import('../support/fault-proxy.js');
    const name = repo('retry-times');
    const image = buildImage({ layers: [rng.bytes(64)] });
    await push(src.url, name, 'v1', image);
    let failures = 0;
    const proxy = await startFaultProxy(src.url, (req) =>
      req.method === 'GET' && req.url.includes('/manifests/') && failures-- > 0
        ? { kind: 'respond', status: 503 }
        : undefined,
    );
    try {
      failures = 2;
      const none = await runFerry(['copy', '--retry-times', '0', `${proxy.host}/${name}:v1`, `${dst.host}/${name}:a`]);
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/503/);
      failures = 2;
      const two = await runFerry(['copy', '--retry-times', '2', `${proxy.host}/${name}:v1`, `${dst.host}/${name}:b`]);
      expect(two.code, two.stderr).toBe(0);
      expect(await remoteDigest(dst.url, name, 'b')).toBe(image.digest);
    } finally {
      await proxy.stop();
    }
  });
});
