import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseImageSet } from '../../../functions/mirror/image-set/document.js';
import { expandImageSet, type SetSources } from '../../../functions/mirror/image-set/expand.js';
import { formatIdms } from '../../../functions/mirror/workspace/cluster-resources.js';
import type { ImageReference } from '../../../functions/oci/reference.js';
import { buildIndex } from '../../support/fixtures.js';
import { memoryRegistry, type MemoryRepository } from '../../support/memory-repository.js';
import { graphOf, type PayloadComponent, releaseImage, storeBuilt } from '../../support/release-fixture.js';

const art = 'quay.io/openshift-release-dev/ocp-v4.0-art-dev';
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
/** Components of a version: `cli` and `installer` shared by both versions, `console` new in 4.17.3. */
const componentsOf = (version: string, arch: number): PayloadComponent[] => [
  { name: 'cli', image: `${art}@${digest(arch * 100 + 1)}` },
  { name: 'installer', image: `${art}@${digest(arch * 100 + 2)}` },
  { name: 'console', image: `${art}@${digest(arch * 100 + (version === '4.17.3' ? 4 : 3))}` },
];

interface Fixture {
  sources: SetSources & { graphCalls: string[] };
  repos: Map<string, MemoryRepository>;
  payloads: Record<string, string>;
}

/** quay.io holding 4.17.2 and 4.17.3 for x86_64 and aarch64, and a graph listing 4.17.1..4.17.4. */
async function fixture(): Promise<Fixture> {
  const registry = memoryRegistry('quay.io');
  const repos = new Map<string, MemoryRepository>();
  const repo = (name: string): MemoryRepository => {
    let r = repos.get(name);
    if (r === undefined) repos.set(name, (r = registry(name)));
    return r;
  };
  const releases = repo('openshift-release-dev/ocp-release');
  const payloads: Record<string, string> = {};
  for (const [arch, oci, tagArch, n] of [
    ['amd64', 'amd64', 'x86_64', 1],
    ['arm64', 'arm64', 'aarch64', 2],
  ] as const) {
    for (const version of ['4.17.2', '4.17.3']) {
      const built = await releaseImage(version, componentsOf(version, n), oci);
      storeBuilt(releases, built, `${version}-${tagArch}`);
      payloads[`${version} ${arch}`] = `quay.io/openshift-release-dev/ocp-release@${built.digest}`;
    }
  }
  const graphs = Object.fromEntries(
    (['amd64', 'arm64'] as const).map((arch) => [
      `stable-4.17 ${arch}`,
      graphOf([
        { version: '4.17.1', payload: `quay.io/openshift-release-dev/ocp-release@${digest(9991)}` },
        { version: '4.17.2', payload: payloads[`4.17.2 ${arch}`]! },
        { version: '4.17.3', payload: payloads[`4.17.3 ${arch}`]! },
        { version: '4.17.4', payload: `quay.io/openshift-release-dev/ocp-release@${digest(9994)}` },
      ]),
    ]),
  );
  const graphCalls: string[] = [];
  const sources = {
    graphCalls,
    listTags: async () => [],
    repository: (ref: ImageReference) => repo(ref.repository),
    getJson: async (url: string) => {
      graphCalls.push(url);
      const u = new URL(url);
      return graphs[`${u.searchParams.get('channel')} ${u.searchParams.get('arch')}`];
    },
  };
  return { sources, repos, payloads };
}

const doc = (platform: object, extra: object = {}): unknown => ({
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { platform, ...extra },
});
const target = { registry: 'mirror.example:5000', prefix: 'ocp' };
const to = 'mirror.example:5000/ocp';

describe('expandImageSet: mirror.platform', () => {
  it('channels min..max over two architectures: each release image and component by digest, to the pinned destinations', async () => {
    const { sources, payloads } = await fixture();
    const set = parseImageSet(
      doc({
        channels: [{ name: 'stable-4.17', minVersion: '4.17.2', maxVersion: '4.17.3' }],
        architectures: ['amd64', 'arm64'],
      }),
    ).set;
    const images = await expandImageSet(set, sources, target, { updateGraphUrl: 'http://127.0.0.1:1/graph' });
    const expected = (['amd64', 'arm64'] as const).flatMap((arch, a) =>
      ['4.17.2', '4.17.3'].flatMap((version) => {
        const label = `${version}-${arch === 'amd64' ? 'x86_64' : 'aarch64'}`;
        return [
          [payloads[`${version} ${arch}`], `${to}/openshift/release-images:${label}`],
          ...componentsOf(version, a + 1).map((c) => [c.image, `${to}/openshift/release:${label}-${c.name}`]),
        ];
      }),
    );
    expect(images.map((i) => [i.source, i.destination])).toEqual(expected);
    expect(images.every((i) => i.byDigest && i.blocked === undefined)).toBe(true);
    // A component both versions share: one source, two tags.
    const cli = images.filter((i) => i.source === `${art}@${digest(101)}`).map((i) => i.destination);
    expect(cli).toEqual([`${to}/openshift/release:4.17.2-x86_64-cli`, `${to}/openshift/release:4.17.3-x86_64-cli`]);
    expect(sources.graphCalls).toEqual([
      'http://127.0.0.1:1/graph?channel=stable-4.17&arch=amd64',
      'http://127.0.0.1:1/graph?channel=stable-4.17&arch=arm64',
    ]);
  });

  it('no range: the head only; architectures default to amd64; the default update service URL', async () => {
    const { sources, repos } = await fixture();
    const releases = repos.get('openshift-release-dev/ocp-release')!;
    // The head of the graph (4.17.4) must exist to be read: put it there.
    const built = await releaseImage('4.17.4', componentsOf('4.17.3', 1), 'amd64');
    storeBuilt(releases, built);
    const getJson = sources.getJson!;
    sources.getJson = async (url) => {
      const graph = (await getJson(url)) as { nodes: { version: string; payload: string }[] };
      graph.nodes[3]!.payload = `quay.io/openshift-release-dev/ocp-release@${built.digest}`;
      return graph;
    };
    const images = await expandImageSet(
      parseImageSet(doc({ channels: [{ name: 'stable-4.17' }] })).set,
      sources,
      target,
    );
    expect(images.map((i) => i.destination)).toEqual([
      `${to}/openshift/release-images:4.17.4-x86_64`,
      `${to}/openshift/release:4.17.4-x86_64-cli`,
      `${to}/openshift/release:4.17.4-x86_64-installer`,
      `${to}/openshift/release:4.17.4-x86_64-console`,
    ]);
    expect(sources.graphCalls).toEqual([
      'https://api.openshift.com/api/upgrades_info/v1/graph?channel=stable-4.17&arch=amd64',
    ]);
  });

  it('release by tag: that image alone, read once even for two architectures when it is single-arch', async () => {
    const { sources, payloads, repos } = await fixture();
    const set = parseImageSet(
      doc({ release: 'quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64', architectures: ['amd64', 'arm64'] }),
    ).set;
    const images = await expandImageSet(set, sources, target);
    expect(images.map((i) => i.source)).toEqual([
      payloads['4.17.3 amd64'],
      ...componentsOf('4.17.3', 1).map((c) => c.image),
    ]);
    expect(sources.graphCalls).toEqual([]);
    // One layer read: the payload's top layer holds both files, the base layer below is never opened.
    expect(repos.get('openshift-release-dev/ocp-release')!.count('openBlob')).toBe(1);
  });

  it('release as a multi-arch index: per asked arch, that arch manifest by digest; multi: the index', async () => {
    const { sources, repos } = await fixture();
    const releases = repos.get('openshift-release-dev/ocp-release')!;
    const amd = await releaseImage('4.18.0', componentsOf('x', 1), 'amd64');
    const arm = await releaseImage('4.18.0', componentsOf('x', 2), 'arm64');
    const index = buildIndex([
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    storeBuilt(releases, index, '4.18.0-multi');
    const release = 'quay.io/openshift-release-dev/ocp-release:4.18.0-multi';
    const byArch = await expandImageSet(
      parseImageSet(doc({ release, architectures: ['arm64', 'multi'] })).set,
      sources,
      target,
    );
    const releaseImages = byArch.filter((i) => i.destination.includes('/release-images:'));
    expect(releaseImages.map((i) => [i.source.split('@')[1], i.destination.split(':').at(-1)])).toEqual([
      [arm.digest, '4.18.0-aarch64'],
      [index.digest, '4.18.0-multi'],
    ]);
  });

  it('keeps both tags of a shared component, applies blockedImages, and dedups by destination after the rest', async () => {
    const { sources } = await fixture();
    const set = parseImageSet(
      doc(
        { channels: [{ name: 'stable-4.17', minVersion: '4.17.2', maxVersion: '4.17.3' }] },
        {
          additionalImages: [{ name: `${art}@${digest(101)}` }],
          blockedImages: [{ name: 'openshift/release:4\\.17\\.3-x86_64-console$' }],
        },
      ),
    ).set;
    const images = await expandImageSet(set, sources, target);
    expect(images[0]).toEqual({
      source: `${art}@${digest(101)}`,
      destination: `${to}/openshift-release-dev/ocp-v4.0-art-dev@${digest(101)}`,
      byDigest: true,
    });
    expect(images.filter((i) => i.source === `${art}@${digest(101)}`)).toHaveLength(3);
    expect(images.filter((i) => i.blocked).map((i) => i.destination)).toEqual([
      `${to}/openshift/release:4.17.3-x86_64-console`,
    ]);
  });

  it('the IDMS maps ocp-release → openshift/release-images and ocp-v4.0-art-dev → openshift/release', async () => {
    const { sources } = await fixture();
    const set = parseImageSet(
      doc({ channels: [{ name: 'stable-4.17', minVersion: '4.17.2', maxVersion: '4.17.3' }] }),
    ).set;
    const images = await expandImageSet(set, sources, target);
    const idms = parse(formatIdms(images.map((i) => ({ ...i, digest: digest(1) })))!) as {
      spec: { imageDigestMirrors: unknown };
    };
    expect(idms.spec.imageDigestMirrors).toEqual([
      { source: 'quay.io/openshift-release-dev/ocp-release', mirrors: [`${to}/openshift/release-images`] },
      { source: art, mirrors: [`${to}/openshift/release`] },
    ]);
  });

  it('fails the whole expansion when the graph fails or a payload is missing, and without a repository port', async () => {
    const { sources } = await fixture();
    const set = parseImageSet(doc({ channels: [{ name: 'stable-4.17', minVersion: '4.17.1' }] })).set;
    // 4.17.1's payload is not in the registry.
    await expect(expandImageSet(set, sources, target)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(
      expandImageSet(set, { ...sources, getJson: async () => ({ nodes: 'x' }) }, target),
    ).rejects.toMatchObject({ code: 'UPDATE_GRAPH_INVALID' });
    await expect(expandImageSet(set, { listTags: async () => [] }, target)).rejects.toThrow('mirror.platform');
    const { getJson: _, ...noGraph } = sources;
    await expect(expandImageSet(set, noGraph, target)).rejects.toMatchObject({ name: 'UsageError' });
  });
});

describe('parseImageSet: mirror.platform', () => {
  it('reads release, channels and architectures (deduplicated; amd64 by default)', () => {
    expect(
      parseImageSet(
        doc({
          channels: [
            { name: 'stable-4.17', type: 'ocp', minVersion: '4.17.1', maxVersion: '4.17.3', shortestPath: false },
          ],
          architectures: ['arm64', 'amd64', 'arm64'],
          graph: false,
        }),
      ).set.platform,
    ).toEqual({
      channels: [{ name: 'stable-4.17', minVersion: '4.17.1', maxVersion: '4.17.3' }],
      architectures: ['arm64', 'amd64'],
    });
    const { set, warnings } = parseImageSet(
      doc({ release: 'quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64' }),
    );
    expect(set.platform).toEqual({
      release: 'quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64',
      channels: [],
      architectures: ['amd64'],
    });
    expect(warnings).toEqual([]);
  });

  it.each([
    ['mirror.platform.graph', { release: 'a/b:1', graph: true }, 'not supported by Ferry yet'],
    ['mirror.platform.kubeVirtContainer', { release: 'a/b:1', kubeVirtContainer: true }, 'not supported by Ferry yet'],
    [
      'mirror.platform.channels[0].shortestPath',
      { channels: [{ name: 'stable-4.17', shortestPath: true }] },
      'not supported by Ferry yet',
    ],
    [
      'mirror.platform.channels[0].full',
      { channels: [{ name: 'stable-4.17', full: true }] },
      'not supported by Ferry yet',
    ],
    [
      'mirror.platform.channels[0].type',
      { channels: [{ name: 'okd-4.17', type: 'okd' }] },
      'not supported by Ferry yet',
    ],
    [
      'mirror.platform.channels[0].minVersion',
      { channels: [{ name: 's', minVersion: '4.17.3', maxVersion: '4.17.1' }] },
      'above',
    ],
    ['mirror.platform.channels[0].maxVersion', { channels: [{ name: 's', maxVersion: '4.17' }] }, 'semver'],
    ['mirror.platform.architectures[0]', { release: 'a/b:1', architectures: ['x86_64'] }, 'multi'],
    ['mirror.platform.release', { release: 'a/b:1', channels: [{ name: 's' }] }, 'not both'],
    ['mirror.platform', { architectures: ['amd64'] }, 'neither'],
    ['mirror.platform.channel', { channel: [] }, 'unknown field'],
  ])('refuses %s', (path, platform, why) => {
    expect(() => parseImageSet(doc(platform))).toThrow(expect.objectContaining({ name: 'ImageSetError', path }));
    expect(() => parseImageSet(doc(platform))).toThrow(why);
  });
});
