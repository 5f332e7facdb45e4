import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { runFerry } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { type BlobData, type BuiltManifest, buildImage, buildIndex, push, Rng } from '../support/fixtures.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// issue 9 "Done when": an image set over real registries — exactly the expected tags, by digest;
// mapping, IDMS and ITMS; a second run all up to date with HEADs only; a dry run that writes nothing.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 909);
const ns = `mc${rng.int(1e9)}`;
const prefix = 'mirror';
const tags = [
  '0.9.0',
  '1.0.0',
  '1.1.0',
  '1.2.0',
  '1.2.1',
  '1.2.1-alpine',
  'v1.3.0',
  '2.0.0-rc.1',
  '2.0.0',
  'v2.1.0',
  '3.0.0-beta.2',
  'latest',
  'stable',
];
const arm64 = { os: 'linux', architecture: 'arm64' };
const amd64 = { os: 'linux', architecture: 'amd64' };

/** One base layer every image shares: the dry run must count it streamed once, then mounted. */
const base = rng.bytes(4096);
const image = (label: string, platform = amd64): BuiltManifest =>
  buildImage({ layers: [base, rng.bytes(256 + rng.int(256))], platform, annotations: { label } });

/** What the source holds: per repository and tag, the manifest pushed. */
const pushed = new Map<string, Map<string, BuiltManifest>>();
async function pushTo(repository: string, tag: string, manifest: BuiltManifest): Promise<void> {
  await push(src.url, `${ns}/${repository}`, tag, manifest);
  const byTag = pushed.get(repository) ?? new Map<string, BuiltManifest>();
  pushed.set(repository, byTag.set(tag, manifest));
}

/** The document, over `registry` (the source registry, or a counting proxy in front of it). */
function document(registry: string, extraDigest: string): string {
  return `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  samples: []
  additionalImages:
    - name: ${registry}/${ns}/extra:1.0
    - name: ${registry}/${ns}/extra@${extraDigest}
    - name: ${registry}/${ns}/blocked:1
  blockedImages:
    - name: ${ns}/blocked
    - name: '${ns}/app:1\\.1\\.0$'
  repositories:
    - name: ${registry}/${ns}/app
      tags:
        include: ['^v?1\\.']
        exclude: ['alpine']
    - name: ${registry}/${ns}/web
      tags:
        semver: '>=1.2.0 <3'
        latest: 2
      platforms: [linux/arm64]
    - name: ${registry}/${ns}/tools
      tags:
        semver: '>=2.0.0-rc.0'
        exclude: ['beta']
`;
}

async function tagsOf(repository: string): Promise<string[] | undefined> {
  const res = await fetch(`${dst.url}/v2/${prefix}/${ns}/${repository}/tags/list`);
  if (res.status === 404) return void (await res.arrayBuffer());
  const doc = (await res.json()) as { tags: string[] | null };
  return [...(doc.tags ?? [])].sort();
}

async function sourceTags(repository: string): Promise<string[]> {
  const res = await fetch(`${src.url}/v2/${ns}/${repository}/tags/list`);
  return ((await res.json()) as { tags: string[] }).tags;
}

const accept = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');
async function destinationDigest(repository: string, reference: string): Promise<string | undefined> {
  const res = await fetch(`${dst.url}/v2/${prefix}/${ns}/${repository}/manifests/${reference}`, {
    method: 'HEAD',
    headers: { accept },
  });
  return res.status === 200 ? (res.headers.get('docker-content-digest') ?? undefined) : undefined;
}

/** The destination's storage as a client sees it: the catalog under our namespace and every tag list. */
async function destinationState(): Promise<string> {
  // docker-registry caps n at 1000; `last` starts the page just before our namespace.
  const res = await fetch(`${dst.url}/v2/_catalog?n=1000&last=${prefix}/${ns}`);
  const catalog = ((await res.json()) as { repositories: string[] }).repositories.filter((r) =>
    r.startsWith(`${prefix}/${ns}/`),
  );
  const lists = await Promise.all(catalog.map(async (r) => [r, await tagsOf(r.slice(`${prefix}/${ns}/`.length))]));
  return JSON.stringify(lists);
}

let extraOld: BuiltManifest;
/** The expected selection per repository, in the order expansion yields it (`listed`: blocked ones too). */
let selected: Record<'app' | 'web' | 'tools', string[]>;
let listed: Record<'app' | 'web' | 'tools', string[]>;

beforeAll(async () => {
  for (const tag of tags) {
    await pushTo('app', tag, image(`app ${tag}`));
    await pushTo('tools', tag, image(`tools ${tag}`));
    const index = buildIndex([
      { image: image(`web ${tag} amd64`), platform: amd64 },
      { image: image(`web ${tag} arm64`, arm64), platform: arm64 },
    ]);
    await pushTo('web', tag, index);
  }
  await pushTo('extra', '1.0', image('extra 1.0'));
  extraOld = image('extra old');
  await pushTo('extra', 'old', extraOld);
  await pushTo('blocked', '1', image('blocked'));
  // Registry order (tags/list), filtered as the policies say.
  const appTags = await sourceTags('app');
  const toolsTags = await sourceTags('tools');
  listed = {
    app: appTags.filter((t) => ['1.0.0', '1.1.0', '1.2.0', '1.2.1', 'v1.3.0'].includes(t)),
    // latest: 2, highest first.
    web: ['v2.1.0', '2.0.0'],
    tools: toolsTags.filter((t) => ['2.0.0-rc.1', '2.0.0', 'v2.1.0'].includes(t)),
  };
  selected = { ...listed, app: listed.app.filter((t) => t !== '1.1.0') };
});

const srcRef = (repository: string, ref: string): string =>
  `${src.host}/${ns}/${repository}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`;
const dstRef = (repository: string, ref: string): string =>
  `${dst.host}/${prefix}/${ns}/${repository}${ref.startsWith('sha256:') ? '@' : ':'}${ref}`;

/** What is copied: the manifest (web: its arm64 child) with its blobs. */
function copiedManifest(repository: string, tag: string): BuiltManifest {
  const manifest = pushed.get(repository)!.get(tag)!;
  return repository === 'web' ? manifest.children[1]! : manifest;
}

/** Every image of the set in expansion order: additionalImages, then repositories as listed. */
function expectedImages(): { repository: string; ref: string; blocked?: boolean }[] {
  return [
    { repository: 'extra', ref: '1.0' },
    { repository: 'extra', ref: extraOld.digest },
    { repository: 'blocked', ref: '1', blocked: true },
    ...(['app', 'web', 'tools'] as const).flatMap((repository) =>
      listed[repository].map((ref) => ({ repository, ref, ...(ref === '1.1.0' ? { blocked: true } : {}) })),
    ),
  ];
}

describe('ferry mirror --config', () => {
  let workspace: string;
  let config: string;
  beforeAll(() => {
    workspace = mkdtempSync(join(tmpdir(), 'ferry-ws-'));
    config = join(workspace, 'set.yaml');
    writeFileSync(config, document(src.host, extraOld.digest));
  });

  it('--dry-run writes nothing to the destination and prints the exact plan', async () => {
    const before = await destinationState();
    const result = await runFerry([
      'mirror',
      '--config',
      config,
      '--to',
      `${dst.host}/${prefix}`,
      '--workspace',
      workspace,
      '--dry-run',
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await destinationState()).toBe(before);
    expect(result.stderr.split('\n').filter((l) => l.startsWith('ferry: warning: '))).toEqual([
      'ferry: warning: mirror.samples: ignored (samples are not implemented (by oc-mirror either))',
    ]);
    const order = expectedImages();
    // The base layer streams once (into extra, the first repository) and is mounted everywhere else.
    const images = order.map(({ repository, ref, blocked }) => {
      const source = srcRef(repository, ref);
      const destination = dstRef(repository, ref);
      if (blocked) return { source, destination, digest: null, action: 'blocked', blobs: zero, bytes: 0 };
      const manifest = copiedManifest(repository, ref.startsWith('sha256:') ? 'old' : ref);
      const mounted = repository === 'extra' ? [] : manifest.blobs.filter((b) => b.data.equals(base));
      const streamed = manifest.blobs.filter((b) => !mounted.includes(b));
      return {
        source,
        destination,
        digest: manifest.digest,
        action: 'copy',
        blobs: { copy: streamed.length, mount: mounted.length, present: 0 },
        bytes: size(streamed),
      };
    });
    const plan = JSON.parse(result.stdout) as unknown;
    expect(plan).toEqual({
      images,
      totals: {
        images: images.length,
        copy: images.filter((i) => i.action === 'copy').length,
        upToDate: 0,
        bytes: images.reduce((n, i) => n + i.bytes, 0),
      },
      // One GET per image; web's arm64 image is picked out of its index: two.
      sourceManifestGets: order.filter((i) => !i.blocked).length + selected.web.length,
    });
    expect(JSON.parse(readFileSync(join(workspace, 'dry-run', 'plan.json'), 'utf8'))).toEqual(plan);
    expect(readFileSync(join(workspace, 'dry-run', 'mapping.txt'), 'utf8')).toBe(mapping());
    expect(existsSync(join(workspace, 'mapping.txt'))).toBe(false);
  });

  it('copies exactly the selected tags, by digest, and writes the workspace', async () => {
    const result = await runFerry([
      'mirror',
      '--config',
      config,
      '--to',
      `${dst.host}/${prefix}`,
      '--workspace',
      workspace,
      '--json',
    ]);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { source: string; status: string; digest?: string });
    expect(lines.filter((l) => l.status === 'blocked').map((l) => l.source)).toEqual([
      srcRef('blocked', '1'),
      srcRef('app', '1.1.0'),
    ]);
    expect(lines.filter((l) => l.status === 'copied')).toHaveLength(2 + 4 + 2 + 3);

    expect(await tagsOf('extra')).toEqual(['1.0']);
    expect(await tagsOf('blocked')).toBeUndefined();
    for (const repository of ['app', 'web', 'tools'] as const) {
      expect(await tagsOf(repository)).toEqual([...selected[repository]].sort());
      for (const tag of selected[repository])
        expect(await destinationDigest(repository, tag)).toBe(copiedManifest(repository, tag).digest);
    }
    expect(await destinationDigest('extra', '1.0')).toBe(pushed.get('extra')!.get('1.0')!.digest);
    expect(await destinationDigest('extra', extraOld.digest)).toBe(extraOld.digest);
    expect(await destinationDigest('app', '1.1.0')).toBeUndefined();

    expect(readFileSync(join(workspace, 'mapping.txt'), 'utf8')).toBe(mapping());
    const idms = parse(readFileSync(join(workspace, 'cluster-resources', 'idms-oc-mirror.yaml'), 'utf8')) as MirrorSet;
    expect(idms.kind).toBe('ImageDigestMirrorSet');
    expect(idms.apiVersion).toBe('config.openshift.io/v1');
    expect(idms.spec.imageDigestMirrors).toEqual([{ source: repo(src.host, 'extra'), mirrors: [dstRepo('extra')] }]);
    const itms = parse(readFileSync(join(workspace, 'cluster-resources', 'itms-oc-mirror.yaml'), 'utf8')) as MirrorSet;
    expect(itms.kind).toBe('ImageTagMirrorSet');
    expect(itms.spec.imageTagMirrors).toEqual(
      ['app', 'extra', 'tools', 'web'].map((r) => ({ source: repo(src.host, r), mirrors: [dstRepo(r)] })),
    );
    expect(existsSync(join(workspace, 'mirroring_errors.txt'))).toBe(false);
  });

  describe('a second run', () => {
    let srcProxy: FaultProxy;
    let dstProxy: FaultProxy;
    beforeAll(async () => {
      [srcProxy, dstProxy] = await Promise.all([startFaultProxy(src.url), startFaultProxy(dst.url)]);
    });
    afterAll(() => Promise.all([srcProxy.stop(), dstProxy.stop()]));

    it('is all up to date, deciding with HEADs (one GET of the index where a platform is picked from it)', async () => {
      const proxied = join(workspace, 'proxied.yaml');
      writeFileSync(proxied, document(srcProxy.host, extraOld.digest));
      const result = await runFerry([
        'mirror',
        '--config',
        proxied,
        '--to',
        `${dstProxy.host}/${prefix}`,
        '--workspace',
        join(workspace, 'second'),
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const statuses = result.stdout
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => (JSON.parse(l) as { status: string }).status);
      expect(statuses.filter((s) => s !== 'blocked')).toEqual(Array(11).fill('skipped'));
      const manifestGets = (proxy: FaultProxy): string[] =>
        proxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/manifests/')).map((r) => r.url);
      expect(manifestGets(dstProxy)).toEqual([]);
      // Only web filters platforms: its index is read (one GET per image), never the arm64 child.
      expect(manifestGets(srcProxy).sort()).toEqual(
        [`/v2/${ns}/web/manifests/2.0.0`, `/v2/${ns}/web/manifests/v2.1.0`].sort(),
      );
      // Every other decision is a HEAD pair (source tag, destination tag); by digest, the destination's alone.
      const heads = (proxy: FaultProxy): number =>
        proxy.seen.filter((r) => r.method === 'HEAD' && r.url.includes('/manifests/')).length;
      expect(heads(srcProxy)).toBe(1 + 4 + 3);
      expect(heads(dstProxy)).toBe(2 + 4 + 2 + 3);
      const writes = dstProxy.seen.filter((r) => !['GET', 'HEAD'].includes(r.method));
      expect(writes).toEqual([]);
      const blobGets = srcProxy.seen.filter((r) => r.method === 'GET' && r.url.includes('/blobs/'));
      expect(blobGets).toEqual([]);
    });
  });

  it('records a failed image in mirroring_errors.txt and exits 1; the others are still mirrored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-ws-fail-'));
    const file = join(dir, 'set.json');
    const missing = `${src.host}/${ns}/extra:no-such-tag`;
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: 'mirror.openshift.io/v2alpha1',
        kind: 'ImageSetConfiguration',
        mirror: { additionalImages: [{ name: missing }, { name: `${src.host}/${ns}/extra:1.0` }] },
      }),
    );
    const result = await runFerry(['mirror', '--config', file, '--to', `${dst.host}/${prefix}`, '--workspace', dir]);
    expect(result.code, result.stderr).toBe(1);
    const errors = readFileSync(join(dir, 'mirroring_errors.txt'), 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`^error mirroring image ${missing.replace(/[.]/g, '\\.')} error: `));
    expect(readFileSync(join(dir, 'mapping.txt'), 'utf8')).toBe(
      `docker://${missing}=docker://${dstRef('extra', 'no-such-tag')}\ndocker://${srcRef('extra', '1.0')}=docker://${dstRef('extra', '1.0')}\n`,
    );
    // The failed image is in no mirror set: only extra:1.0 by tag.
    const itms = parse(readFileSync(join(dir, 'cluster-resources', 'itms-oc-mirror.yaml'), 'utf8')) as MirrorSet;
    expect(itms.spec.imageTagMirrors).toEqual([{ source: repo(src.host, 'extra'), mirrors: [dstRepo('extra')] }]);
    expect(existsSync(join(dir, 'cluster-resources', 'idms-oc-mirror.yaml'))).toBe(false);
  });

  it('refuses a bad document with one line naming the path (exit 2)', async () => {
    const bad = join(workspace, 'bad.yaml');
    writeFileSync(
      bad,
      `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  repositories:
    - name: ${src.host}/a
    - name: ${src.host}/b
    - name: ${src.host}/c
      tags:
        semvr: '>=1'
`,
    );
    const result = await runFerry(['mirror', '--config', bad, '--to', `${dst.host}/${prefix}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n').filter((l) => l !== '')).toEqual([
      expect.stringMatching(/^ferry: mirror\.repositories\[2\]\.tags\.semvr: /),
    ]);
  });

  it.each([
    [['mirror', '--config', 'x.yaml', '--to', '127.0.0.1:5000', '127.0.0.1:5000/a:1']],
    [['mirror', '--config', 'x.yaml', '--to', '127.0.0.1:5000', '--images-file', 'list.txt']],
    [['mirror', '--to', '127.0.0.1:5000', '--workspace', 'ws', '127.0.0.1:5000/a:1']],
  ])('is a usage error (exit 2): %j', async (args) => {
    const result = await runFerry(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
  });
});

interface MirrorSet {
  apiVersion: string;
  kind: string;
  spec: Record<string, { source: string; mirrors: string[] }[]>;
}

const zero = { copy: 0, mount: 0, present: 0 };
const size = (blobs: readonly BlobData[]): number => blobs.reduce((n, b) => n + b.size, 0);
const repo = (host: string, repository: string): string => `${host}/${ns}/${repository}`;
const dstRepo = (repository: string): string => `${dst.host}/${prefix}/${ns}/${repository}`;

/** mapping.txt: every image but the blocked, in set order, oc-mirror v2's `docker://` lines. */
function mapping(): string {
  return expectedImages()
    .filter((i) => !i.blocked)
    .map((i) => `docker://${srcRef(i.repository, i.ref)}=docker://${dstRef(i.repository, i.ref)}\n`)
    .join('');
}
