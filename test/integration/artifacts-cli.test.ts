import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import { describe, expect, inject, it } from 'vitest';
import { cleanEnv, runFerry } from '../support/cli.js';
import { blob, type BlobData, type BuiltManifest, buildImage, push, Rng, sha256 } from '../support/fixtures.js';

// issue 12, "Pinned: artifacts": ferry push / pull / attach / discover against a real
// docker-registry (distribution 2.8: no referrers API, so attach uses the sha256-<hex> tag index),
// and an artifact laid out by hand exactly as oras 1.x writes one (docs/oras-format.md).
// `npm run build` first: runFerry runs bin/ferry.js on dist/.

const { seed, src } = inject('registries');
const rng = new Rng(seed + 1212);
const ns = `art${rng.int(1e9)}`;
const emptyDigest = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
const titleKey = 'org.opencontainers.image.title';
const insecure = ['--insecure', src.host];

const work = (): string => mkdtempSync(join(tmpdir(), 'ferry-artifacts-'));

async function manifestAt(repository: string, reference: string): Promise<{ bytes: Buffer; type: string }> {
  const res = await fetch(`${src.url}/v2/${repository}/manifests/${reference}`, {
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' },
  });
  expect(res.status, `${repository}:${reference}`).toBe(200);
  return { bytes: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') ?? '' };
}

async function blobAt(repository: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${src.url}/v2/${repository}/blobs/${digest}`);
  expect(res.status, digest).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

/** A tar.gz of entries, as oras packs a directory: every name under `title`, the directory entry without a slash. */
async function orasTarGz(
  entries: { name: string; type?: 'directory' | 'file' | 'symlink'; data?: string; linkname?: string }[],
): Promise<{ gz: Buffer; tarDigest: string }> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => archive.on('end', () => resolve()));
  for (const e of entries) {
    const header = {
      name: e.name,
      type: e.type ?? 'file',
      mode: e.type === 'directory' ? 0o755 : 0o644,
      mtime: new Date(1_700_000_000_000),
      ...(e.linkname ? { linkname: e.linkname } : {}),
    };
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (header.type === 'file') archive.entry(header, Buffer.from(e.data ?? ''), done);
      else archive.entry(header, done);
    });
  }
  archive.finalize();
  await ended;
  const tar = Buffer.concat(chunks);
  return { gz: gzipSync(tar), tarDigest: sha256(tar) };
}

/** An artifact manifest exactly as oras 1.2 writes it (compact, Go key order), with its blobs. */
function orasManifest(
  layers: { blob: BlobData; annotations?: Record<string, string> }[],
  extra: object = {},
): BuiltManifest {
  const empty = blob('application/vnd.oci.empty.v1+json', Buffer.from('{}'));
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: 'application/vnd.acme.bundle.v1',
      config: { mediaType: empty.mediaType, digest: empty.digest, size: 2, data: 'e30=' },
      layers: layers.map((l) => ({
        mediaType: l.blob.mediaType,
        digest: l.blob.digest,
        size: l.blob.size,
        ...(l.annotations ? { annotations: l.annotations } : {}),
      })),
      ...extra,
      annotations: { 'org.opencontainers.image.created': '2025-01-02T03:04:05Z' },
    }),
  );
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: sha256(bytes),
    bytes,
    blobs: [empty, ...layers.map((l) => l.blob)],
    children: [],
  };
}

describe('ferry push and pull', () => {
  it('pushes files and a directory as oras does, and pulls them back byte for byte', async () => {
    const dir = work();
    writeFileSync(join(dir, 'hello.txt'), 'hello world\n');
    mkdirSync(join(dir, 'docs', 'deep'), { recursive: true });
    writeFileSync(join(dir, 'docs', 'a.md'), '# a\n');
    writeFileSync(join(dir, 'docs', 'deep', 'b.json'), '{"b":1}');
    symlinkSync('a.md', join(dir, 'docs', 'link.md'));
    const repository = `${ns}/bundle`;
    const pushed = await runFerry(
      [
        'push',
        `${src.host}/${repository}:v1`,
        'hello.txt:text/plain',
        'docs',
        '--annotation',
        'team=platform',
        '--json',
        ...insecure,
      ],
      cleanEnv(),
      dir,
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const result = JSON.parse(pushed.stdout) as { digest: string; blobs: number };

    const { bytes, type } = await manifestAt(repository, 'v1');
    expect(type).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(sha256(bytes)).toBe(result.digest);
    expect(bytes.at(-1)).not.toBe(0x0a); // compact, no trailing newline, as Go marshals it
    const manifest = JSON.parse(bytes.toString()) as Record<string, unknown> & {
      layers: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
      annotations: Record<string, string>;
    };
    expect(Object.keys(manifest)).toEqual([
      'schemaVersion',
      'mediaType',
      'artifactType',
      'config',
      'layers',
      'annotations',
    ]);
    expect(manifest.artifactType).toBe('application/vnd.unknown.artifact.v1');
    expect(manifest.config).toEqual({
      mediaType: 'application/vnd.oci.empty.v1+json',
      digest: emptyDigest,
      size: 2,
      data: 'e30=',
    });
    expect((await blobAt(repository, emptyDigest)).toString()).toBe('{}');
    const hello = Buffer.from('hello world\n');
    expect(manifest.layers[0]).toEqual({
      mediaType: 'text/plain',
      digest: sha256(hello),
      size: 12,
      annotations: { [titleKey]: 'hello.txt' },
    });
    const docs = manifest.layers[1]!;
    expect(docs.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');
    expect(Object.keys(docs.annotations)).toEqual([
      'io.deis.oras.content.digest',
      'io.deis.oras.content.unpack',
      titleKey,
    ]);
    expect([docs.annotations['io.deis.oras.content.unpack'], docs.annotations[titleKey]]).toEqual(['true', 'docs']);
    expect(Object.keys(manifest.annotations)).toEqual(['org.opencontainers.image.created', 'team']);
    expect(manifest.annotations['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(manifest.annotations.team).toBe('platform');

    const out = work();
    const pulled = await runFerry(['pull', `${src.host}/${repository}:v1`, '-o', out, ...insecure]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(out, 'hello.txt'), 'utf8')).toBe('hello world\n');
    expect(readFileSync(join(out, 'docs', 'a.md'), 'utf8')).toBe('# a\n');
    expect(readFileSync(join(out, 'docs', 'deep', 'b.json'), 'utf8')).toBe('{"b":1}');
    expect(readlinkSync(join(out, 'docs', 'link.md'))).toBe('a.md');
    expect(readdirSync(out).sort()).toEqual(['docs', 'hello.txt']);
  }, 60_000);

  it('pulls an artifact oras made: titles with paths, a directory layer, untitled layers skipped', async () => {
    const file = blob('application/vnd.oci.image.layer.v1.tar', Buffer.from('config: yes\n'));
    const untitled = blob('application/vnd.acme.hidden', Buffer.from('not a file'));
    const { gz, tarDigest } = await orasTarGz([
      { name: 'charts', type: 'directory' },
      { name: 'charts/app', type: 'directory' },
      { name: 'charts/app/values.yaml', data: 'replicas: 2\n' },
    ]);
    const dirBlob = blob('application/vnd.oci.image.layer.v1.tar+gzip', gz);
    const manifest = orasManifest([
      { blob: file, annotations: { [titleKey]: 'conf/app.yaml' } },
      { blob: untitled },
      {
        blob: dirBlob,
        annotations: {
          'io.deis.oras.content.digest': tarDigest,
          'io.deis.oras.content.unpack': 'true',
          [titleKey]: 'charts',
        },
      },
    ]);
    await push(src.url, `${ns}/oras-made`, 'v1', manifest);

    const out = work();
    const pulled = await runFerry(['pull', `${src.host}/${ns}/oras-made:v1`, '-o', out, '--json', ...insecure]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(out, 'conf', 'app.yaml'), 'utf8')).toBe('config: yes\n');
    expect(readFileSync(join(out, 'charts', 'app', 'values.yaml'), 'utf8')).toBe('replicas: 2\n');
    expect(readdirSync(out).sort()).toEqual(['charts', 'conf']);
    expect(
      pulled.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { title: string }).title),
    ).toEqual(['conf/app.yaml', 'charts']);
  }, 60_000);

  it.each([
    ['a title with ..', '../escape.txt'],
    ['an absolute title', '/tmp/ferry-escape.txt'],
    ['a title that climbs out after going in', 'in/../../escape.txt'],
  ])(
    'refuses %s and writes nothing',
    async (_case, title) => {
      const good = blob('application/vnd.oci.image.layer.v1.tar', Buffer.from('fine'));
      const bad = blob('application/vnd.oci.image.layer.v1.tar', Buffer.from('escaped'));
      const repository = `${ns}/traversal-${rng.int(1e9)}`;
      await push(
        src.url,
        repository,
        'v1',
        orasManifest([
          { blob: good, annotations: { [titleKey]: 'good.txt' } },
          { blob: bad, annotations: { [titleKey]: title } },
        ]),
      );
      const parent = work();
      const out = join(parent, 'out');
      const pulled = await runFerry(['pull', `${src.host}/${repository}:v1`, '-o', out, ...insecure]);
      expect(pulled.code).toBe(1);
      expect(pulled.stderr).toMatch(/^ferry: .*outside the output directory/);
      expect(pulled.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
      expect(existsSync(join(out, 'good.txt'))).toBe(false);
      expect(existsSync(join(parent, 'escape.txt'))).toBe(false);
      expect(existsSync('/tmp/ferry-escape.txt')).toBe(false);
    },
    60_000,
  );

  it('refuses a title that leaves through a symbolic link, and a directory entry that climbs out', async () => {
    const parent = work();
    const out = join(parent, 'out');
    mkdirSync(out);
    symlinkSync(parent, join(out, 'up'));
    const through = blob('application/vnd.oci.image.layer.v1.tar', Buffer.from('through a link'));
    const repository = `${ns}/links-${rng.int(1e9)}`;
    await push(
      src.url,
      repository,
      'v1',
      orasManifest([{ blob: through, annotations: { [titleKey]: 'up/escape.txt' } }]),
    );
    const viaLink = await runFerry(['pull', `${src.host}/${repository}:v1`, '-o', out, ...insecure]);
    expect(viaLink.code).toBe(1);
    expect(viaLink.stderr).toMatch(/symbolic link/);
    expect(existsSync(join(parent, 'escape.txt'))).toBe(false);

    const { gz, tarDigest } = await orasTarGz([
      { name: 'pack', type: 'directory' },
      { name: 'pack/../../climbed.txt', data: 'out' },
    ]);
    const dirBlob = blob('application/vnd.oci.image.layer.v1.tar+gzip', gz);
    await push(
      src.url,
      repository,
      'dir',
      orasManifest([
        {
          blob: dirBlob,
          annotations: {
            'io.deis.oras.content.digest': tarDigest,
            'io.deis.oras.content.unpack': 'true',
            [titleKey]: 'pack',
          },
        },
      ]),
    );
    const clean = join(parent, 'clean');
    const climbing = await runFerry(['pull', `${src.host}/${repository}:dir`, '-o', clean, ...insecure]);
    expect(climbing.code).toBe(1);
    expect(climbing.stderr).toMatch(/outside pack/);
    expect(existsSync(join(parent, 'climbed.txt'))).toBe(false);
    expect(readdirSync(clean)).toEqual([]);
  }, 60_000);

  it("fails a directory whose content does not hash to oras's content digest, and leaves nothing of it", async () => {
    const { gz } = await orasTarGz([
      { name: 'd', type: 'directory' },
      { name: 'd/x.txt', data: 'x' },
    ]);
    const dirBlob = blob('application/vnd.oci.image.layer.v1.tar+gzip', gz);
    const repository = `${ns}/digest-${rng.int(1e9)}`;
    const wrong = sha256(Buffer.from('another tar'));
    await push(
      src.url,
      repository,
      'v1',
      orasManifest([
        {
          blob: dirBlob,
          annotations: { 'io.deis.oras.content.digest': wrong, 'io.deis.oras.content.unpack': 'true', [titleKey]: 'd' },
        },
      ]),
    );
    const out = work();
    const pulled = await runFerry(['pull', `${src.host}/${repository}:v1`, '-o', out, ...insecure]);
    expect(pulled.code).toBe(1);
    expect(pulled.stderr).toContain(`expected ${wrong}`);
    expect(readdirSync(out)).toEqual([]);
  }, 60_000);

  it('--allow-path-traversal lets a title write beside the output directory', async () => {
    const bad = blob('application/vnd.oci.image.layer.v1.tar', Buffer.from('beside'));
    const repository = `${ns}/allowed-${rng.int(1e9)}`;
    await push(src.url, repository, 'v1', orasManifest([{ blob: bad, annotations: { [titleKey]: '../beside.txt' } }]));
    const parent = work();
    const pulled = await runFerry([
      'pull',
      `${src.host}/${repository}:v1`,
      '-o',
      join(parent, 'out'),
      '--allow-path-traversal',
      ...insecure,
    ]);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(readFileSync(join(parent, 'beside.txt'), 'utf8')).toBe('beside');
  }, 60_000);
});

describe('ferry attach and discover', () => {
  it('attaches an SBOM and its signature through the sha256- tag index, and discovers them as a tree', async () => {
    const repository = `${ns}/app`;
    const image = buildImage({ layers: [rng.bytes(256)] });
    await push(src.url, repository, '1.0', image);
    const dir = work();
    writeFileSync(join(dir, 'sbom.json'), '{"spdxVersion":"SPDX-2.3"}');
    writeFileSync(join(dir, 'sig.txt'), 'signature');
    const env = cleanEnv();
    const sbom = await runFerry(
      [
        'attach',
        `${src.host}/${repository}:1.0`,
        'sbom.json:application/spdx+json',
        '--artifact-type',
        'application/spdx+json',
        '--json',
        ...insecure,
      ],
      env,
      dir,
    );
    expect(sbom.code, sbom.stderr).toBe(0);
    const attached = JSON.parse(sbom.stdout) as { digest: string; indexedBy: string };
    expect(attached.indexedBy).toBe('fallback-tag');
    const sbomManifest = JSON.parse((await manifestAt(repository, attached.digest)).bytes.toString()) as {
      subject: object;
      artifactType: string;
    };
    expect(sbomManifest.subject).toEqual({
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.bytes.length,
    });
    expect(sbomManifest.artifactType).toBe('application/spdx+json');

    const tag = `sha256-${image.digest.slice('sha256:'.length)}`;
    const index = JSON.parse((await manifestAt(repository, tag)).bytes.toString()) as {
      manifests: Record<string, unknown>[];
    };
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0]).toMatchObject({ digest: attached.digest, artifactType: 'application/spdx+json' });
    expect(Object.keys((index.manifests[0]!.annotations ?? {}) as object)).toEqual([
      'org.opencontainers.image.created',
    ]);

    const sig = await runFerry(
      [
        'attach',
        `${src.host}/${repository}@${attached.digest}`,
        'sig.txt',
        '--artifact-type',
        'application/vnd.acme.signature',
        '--json',
        ...insecure,
      ],
      env,
      dir,
    );
    expect(sig.code, sig.stderr).toBe(0);
    const signature = JSON.parse(sig.stdout) as { digest: string };

    const tree = await runFerry(['discover', `${src.host}/${repository}:1.0`, ...insecure]);
    expect(tree.code, tree.stderr).toBe(0);
    const createdAt = new Map<string, string>();
    for (const d of [attached.digest, signature.digest]) {
      const { annotations } = JSON.parse((await manifestAt(repository, d)).bytes.toString()) as {
        annotations: Record<string, string>;
      };
      createdAt.set(d, annotations['org.opencontainers.image.created']!);
    }
    const created = (d: string): string => createdAt.get(d)!;
    expect(tree.stdout).toBe(
      [
        `${src.host}/${repository}@${image.digest}`,
        '└── application/spdx+json',
        `    └── ${attached.digest}`,
        '        ├── [annotations]',
        `        │   └── org.opencontainers.image.created: "${created(attached.digest)}"`,
        '        └── application/vnd.acme.signature',
        `            └── ${signature.digest}`,
        '                └── [annotations]',
        `                    └── org.opencontainers.image.created: "${created(signature.digest)}"`,
        '',
      ].join('\n'),
    );

    const filtered = await runFerry([
      'discover',
      `${src.host}/${repository}:1.0`,
      '--artifact-type',
      'application/vnd.acme.other',
      '--json',
      ...insecure,
    ]);
    expect(filtered.code, filtered.stderr).toBe(0);
    expect(JSON.parse(filtered.stdout)).toEqual({
      reference: `${src.host}/${repository}@${image.digest}`,
      mediaType: image.mediaType,
      digest: image.digest,
      size: image.bytes.length,
      referrers: [],
    });
    const json = JSON.parse(
      (await runFerry(['discover', `${src.host}/${repository}:1.0`, '--json', ...insecure])).stdout,
    ) as {
      referrers: { digest: string; artifactType: string; referrers: { digest: string }[] }[];
    };
    expect(json.referrers.map((r) => [r.digest, r.artifactType, r.referrers.map((s) => s.digest)])).toEqual([
      [attached.digest, 'application/spdx+json', [signature.digest]],
    ]);
  }, 60_000);
});

describe('the artifact verbs on the command line', () => {
  it.each(['push', 'pull', 'attach', 'discover'])('ferry %s --help shows an example', async (verb) => {
    const help = await runFerry([verb, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`Examples:\\n  ferry ${verb} `));
  });

  it('says in one line what is missing: a tag (latest by default, as docker), a file, a relative path', async () => {
    const noTag = await runFerry(['pull', `${src.host}/${ns}/bundle`, ...insecure]);
    expect(noTag.code).toBe(1);
    expect(noTag.stderr).toMatch(new RegExp(`^ferry: GET ${src.host}/${ns}/bundle: not found[^\n]*\n$`));
    const missing = await runFerry(
      ['push', `${src.host}/${ns}/missing:v1`, 'nope.txt', ...insecure],
      cleanEnv(),
      work(),
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^ferry: cannot read nope\.txt: ENOENT[^\n]*\n$/);
    const absolute = await runFerry(['push', `${src.host}/${ns}/missing:v1`, '/etc/hostname', ...insecure]);
    expect(absolute.code).toBe(2);
    expect(absolute.stderr).toContain('absolute file path');
  });
});
