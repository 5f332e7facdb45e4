import { cp, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runFerry, skopeoDigest } from '../support/cli.js';
import { type BuiltManifest, buildImage, buildIndex, push, remoteDigest, Rng } from '../support/fixtures.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.
// Issue 12 "Done when" (archives): an image set mirrored to disk in ≥ 3 parts and from disk to a
// registry, every image with its digest (skopeo); an incremental second archive holds none of the
// first's blobs; a missing part is refused before anything is pushed; a corrupted part fails on
// the digest and nothing of that image is committed.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1212);
const ns = `ac${rng.int(1e9)}`;
const base = rng.bytes(6000);
const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };
const image = (size: number, platform = amd64): BuiltManifest =>
  buildImage({ layers: [base, rng.bytes(size)], platform });

/** Source repository and tag → manifest. */
const pushed = new Map<string, BuiltManifest>();
let work: string;

function config(tags: readonly string[], extraDigest: string): string {
  return `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: ${src.host}/${ns}/extra@${extraDigest}
  repositories:
    - name: ${src.host}/${ns}/app
      tags:
        include: [${tags.map((t) => `'^${t.replace(/\./g, '\\.')}$'`).join(', ')}]
`;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ferry-archive-cli-'));
  const multi = buildIndex([
    { image: image(5000), platform: amd64 },
    { image: image(5000, arm64), platform: arm64 },
  ]);
  for (const [repo, tag, manifest] of [
    ['app', '1.0', image(9000)],
    ['app', '1.1', multi],
    ['app', '2.0', image(7000)],
    ['extra', 'x', image(4000)],
    ['solo', '1', buildImage({ layers: [rng.bytes(8000)] })],
  ] as const) {
    await push(src.url, `${ns}/${repo}`, tag, manifest);
    pushed.set(`${repo}:${tag}`, manifest);
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const extra = (): string => pushed.get('extra:x')!.digest;

async function writeConfig(name: string, tags: readonly string[]): Promise<string> {
  const path = join(work, name);
  await writeFile(path, config(tags, extra()));
  return path;
}

interface IndexFile {
  readonly parts: { name: string }[];
  readonly buildsOn: string[];
  readonly blobs: Record<string, { part: string; offset: number }>;
}

const readIndex = async (dir: string): Promise<IndexFile> =>
  JSON.parse(await readFile(join(dir, 'ferry-archive.json'), 'utf8')) as IndexFile;

describe('ferry mirror to and from file://DIR', () => {
  it('mirrors a set to disk in ≥ 3 parts, then from disk to a registry with every digest and the workspace files', async () => {
    const dir = join(work, 'round');
    const toDisk = await runFerry([
      'mirror',
      '--config',
      await writeConfig('round.yaml', ['1.0', '1.1']),
      '--to',
      `file://${dir}`,
      '--archive-size',
      '16KiB',
    ]);
    expect(toDisk.stderr).toContain('3 images: 3 archived, 0 failed');
    expect(toDisk.code).toBe(0);
    const parts = (await readdir(dir)).filter((f) => f.endsWith('.tar'));
    expect(parts.length).toBeGreaterThanOrEqual(3);

    const workspace = join(work, 'round-ws');
    const fromDisk = await runFerry([
      'mirror',
      '--from',
      `file://${dir}`,
      '--to',
      `${dst.host}/air`,
      '--workspace',
      workspace,
    ]);
    expect(fromDisk.stderr).toContain('3 images: 3 copied, 0 skipped, 0 failed');
    expect(fromDisk.code).toBe(0);
    expect(await skopeoDigest(`${dst.host}/air/${ns}/app:1.0`)).toBe(pushed.get('app:1.0')!.digest);
    expect(await skopeoDigest(`${dst.host}/air/${ns}/app:1.1`)).toBe(pushed.get('app:1.1')!.digest);
    expect(await skopeoDigest(`${dst.host}/air/${ns}/extra@${extra()}`)).toBe(extra());
    const mapping = await readFile(join(workspace, 'mapping.txt'), 'utf8');
    expect(mapping).toContain(`docker://${src.host}/${ns}/app:1.0=docker://${dst.host}/air/${ns}/app:1.0`);
    expect(await readFile(join(workspace, 'cluster-resources', 'idms-oc-mirror.yaml'), 'utf8')).toContain(
      `${dst.host}/air/${ns}/extra`,
    );
    expect(await readFile(join(workspace, 'cluster-resources', 'itms-oc-mirror.yaml'), 'utf8')).toContain(
      `${dst.host}/air/${ns}/app`,
    );
  });

  it('writes only what was not shipped before; the later archive alone arrives where the earlier one was pushed', async () => {
    const dir = join(work, 'incr');
    const first = await runFerry(['mirror', '--config', await writeConfig('a.yaml', ['1.0']), '--to', `file://${dir}`]);
    expect(first.code).toBe(0);
    const earlier = await readIndex(dir);
    // The first archive travels alone (a copy of DIR as it was), and is pushed.
    const firstCopy = join(work, 'incr-first');
    await cp(dir, firstCopy, { recursive: true });
    const second = await runFerry([
      'mirror',
      '--config',
      await writeConfig('b.yaml', ['1.0', '2.0']),
      '--to',
      `file://${dir}`,
    ]);
    expect(second.code).toBe(0);
    const later = await readIndex(dir);
    expect(Object.keys(later.blobs).filter((d) => d in earlier.blobs)).toEqual([]);
    expect(later.buildsOn).toEqual(earlier.parts.map((p) => p.name));

    // The later archive alone: refused where the earlier one is missing (names it), pushed after it.
    const laterAlone = join(work, 'incr-later');
    await cp(dir, laterAlone, { recursive: true, filter: (f) => !earlier.parts.some((p) => f.endsWith(p.name)) });
    const refused = await runFerry(['mirror', '--from', `file://${laterAlone}`, '--to', `${dst.host}/incr`]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/earlier archives: .*mirror_000001\.tar.*nothing pushed/);
    expect(await remoteDigest(dst.url, `incr/${ns}/app`, '2.0')).toBeUndefined();

    const ws = join(work, 'incr-ws');
    expect(
      (await runFerry(['mirror', '--from', `file://${firstCopy}`, '--to', `${dst.host}/incr`, '--workspace', ws])).code,
    ).toBe(0);
    const pushedLater = await runFerry([
      'mirror',
      '--from',
      `file://${laterAlone}`,
      '--to',
      `${dst.host}/incr`,
      '--workspace',
      ws,
    ]);
    expect(pushedLater.code).toBe(0);
    expect(await skopeoDigest(`${dst.host}/incr/${ns}/app:2.0`)).toBe(pushed.get('app:2.0')!.digest);
  });

  it('refuses an archive with a missing part before pushing anything, naming the part', async () => {
    const dir = join(work, 'missing');
    const written = await runFerry([
      'mirror',
      '--config',
      await writeConfig('m.yaml', ['1.0', '1.1']),
      '--to',
      `file://${dir}`,
      '--archive-size',
      '16KiB',
    ]);
    expect(written.code).toBe(0);
    await rm(join(dir, 'mirror_000002.tar'));
    const result = await runFerry(['mirror', '--from', `file://${dir}`, '--to', `${dst.host}/missing`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('part mirror_000002.tar is missing');
    expect(await remoteDigest(dst.url, `missing/${ns}/app`, '1.0')).toBeUndefined();
    expect(await remoteDigest(dst.url, `missing/${ns}/extra`, extra())).toBeUndefined();
  });

  it('fails an image whose part is corrupted on the digest and commits nothing of it', async () => {
    const dir = join(work, 'corrupt');
    const set = join(work, 'corrupt.yaml');
    await writeFile(
      set,
      `apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n    - name: ${src.host}/${ns}/solo:1\n`,
    );
    expect((await runFerry(['mirror', '--config', set, '--to', `file://${dir}`])).code).toBe(0);
    // No other test puts this layer in the destination registry: it is read from the part, not mounted.
    const layer = pushed.get('solo:1')!.blobs[1]!;
    const where = (await readIndex(dir)).blobs[layer.digest]!;
    const file = await open(join(dir, where.part), 'r+');
    await file.write(Buffer.from([layer.data[10]! ^ 0xff]), 0, 1, where.offset + 10);
    await file.close();
    const result = await runFerry([
      'mirror',
      '--from',
      `file://${dir}`,
      '--to',
      `${dst.host}/corrupt`,
      '--workspace',
      join(work, 'corrupt-ws'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/failed .*hashes to sha256:/);
    expect(await remoteDigest(dst.url, `corrupt/${ns}/solo`, '1')).toBeUndefined();
    expect((await fetch(`${dst.url}/v2/corrupt/${ns}/solo/blobs/${layer.digest}`, { method: 'HEAD' })).status).toBe(
      404,
    );
    expect(await readFile(join(work, 'corrupt-ws', 'mirroring_errors.txt'), 'utf8')).toContain(`${ns}/solo:1`);
  });

  it('shows both forms with examples in mirror --help', async () => {
    const help = await runFerry(['mirror', '--help']);
    expect(help.stdout).toContain('--archive-size <size>');
    expect(help.stdout).toContain('$ ferry mirror --config set.yaml --to file://./archive');
    expect(help.stdout).toContain('$ ferry mirror --from file://./archive --to');
  });
});
