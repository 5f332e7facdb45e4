import { createReadStream } from 'node:fs';
import { mkdtemp, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ArchiveReader } from '../../../functions/mirror/archive/archive-reader.js';
import { ArchiveWriter } from '../../../functions/mirror/archive/archive-writer.js';
import { type ArchiveItem, pushArchive, writeArchive } from '../../../functions/mirror/archive/archive-mirror.js';
import { type ArchiveIndex, historyFile } from '../../../functions/mirror/archive/format.js';
import type { MirrorResult } from '../../../functions/mirror/mirror.js';
import { parseImageReference } from '../../../functions/oci/reference.js';
import { type BuiltManifest, buildImage, buildIndex, push, remoteDigest, Rng } from '../../support/fixtures.js';
import { createEngine, type Engine } from '../../support/engine.js';

// Issue 12, "Pinned: archives": the library on real registries — an image set written into parts
// no larger than the part size (the copier walks the images), read back by offset and pushed.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1201);
const ns = `ar${rng.int(1e9)}`;
const partSize = 12 * 1024;
const shared = rng.bytes(5000);

let engine: Engine;
let work: string;
const images = new Map<string, BuiltManifest>();
/** Only in the corruption test: no other test has put its layer into the destination registry (where it would be mounted, never read). */
const solo = buildImage({ layers: [rng.bytes(7000)] });

beforeAll(async () => {
  engine = createEngine();
  work = await mkdtemp(join(tmpdir(), 'ferry-archive-'));
  const amd = buildImage({ layers: [shared, rng.bytes(4000)] });
  const arm = buildImage({ layers: [shared, rng.bytes(4000)], platform: { os: 'linux', architecture: 'arm64' } });
  images.set(
    'multi:1',
    buildIndex([
      { image: amd, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm, platform: { os: 'linux', architecture: 'arm64' } },
    ]),
  );
  images.set('app:1', buildImage({ layers: [shared, rng.bytes(6000), rng.bytes(3000)] }));
  images.set('app:2', buildImage({ layers: [shared, rng.bytes(6000)] }));
  images.set('big:1', buildImage({ layers: [rng.bytes(20_000)] }));
  await push(src.url, `${ns}/solo`, '1', solo);
  for (const [name, manifest] of images) {
    const [repo, tag] = name.split(':') as [string, string];
    await push(src.url, `${ns}/${repo}`, tag, manifest);
  }
});

afterAll(async () => {
  await engine.close();
  await rm(work, { recursive: true, force: true });
});

function items(names: readonly string[]): ArchiveItem[] {
  return names.map((name) => {
    const [repo, tag] = name.split(':') as [string, string];
    const source = parseImageReference(`${src.host}/${ns}/${repo}:${tag}`);
    return {
      source: engine.registries.image({ kind: 'registry', ref: source }, 'source'),
      sourceName: `${src.host}/${ns}/${repo}:${tag}`,
      destination: `${ns}/${repo}:${tag}`,
      path: `${ns}/${repo}`,
      reference: tag,
      byDigest: false,
    };
  });
}

async function write(dir: string, names: readonly string[]): Promise<{ index: ArchiveIndex; warnings: string[] }> {
  const warnings: string[] = [];
  const writer = await ArchiveWriter.open(dir, { partSize, imageSet: { names }, warn: (w) => warnings.push(w) });
  const { index, results } = await writeArchive(items(names), writer, engine.copier, {}, () => {});
  expect(results.map((r) => r.status)).toEqual(names.map(() => 'copied'));
  return { index, warnings };
}

/** Pushes DIR's archive under `dst/<prefix>`. */
async function pushTo(dir: string, prefix: string): Promise<MirrorResult[]> {
  const reader = await ArchiveReader.open(dir);
  return pushArchive(
    reader,
    (image) =>
      engine.registries.image(
        { kind: 'registry', ref: parseImageReference(`${dst.host}/${prefix}/${image.destination}`) },
        'destination',
      ),
    engine.copier,
    {},
    () => {},
  );
}

/** Every entry of a part as tar-stream reads it: name and size. */
async function entries(path: string): Promise<{ name: string; size: number }[]> {
  const found: { name: string; size: number }[] = [];
  const reading = extract();
  reading.on('entry', (header, stream, next) => {
    found.push({ name: header.name, size: header.size ?? 0 });
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(createReadStream(path), reading);
  return found;
}

describe('archives', () => {
  it('writes a set into parts no larger than the part size, each a tar of OCI-layout blobs, and pushes it back with every digest', async () => {
    const dir = join(work, 'round');
    const names = [...images.keys()];
    const { index, warnings } = await write(dir, names);
    const parts = (await readdir(dir)).filter((f) => f.endsWith('.tar')).sort();
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(index.parts.map((p) => p.name)).toEqual(parts);
    // The 20 000-byte layer is larger than a part: a part of its own, with a warning.
    expect(warnings).toHaveLength(1);
    for (const part of parts) {
      const size = (await stat(join(dir, part))).size;
      const listed = await entries(join(dir, part));
      const blobs = listed.filter((e) => e.name.startsWith('blobs/sha256/'));
      if (blobs.every((b) => b.size < partSize)) expect(size).toBeLessThanOrEqual(partSize);
      // The index names the part each blob is in (its offsets are read back by the push below, digest-checked).
      for (const b of blobs) expect(index.blobs[`sha256:${b.name.slice('blobs/sha256/'.length)}`]?.part).toBe(part);
    }
    expect((await entries(join(dir, parts.at(-1)!))).map((e) => e.name)).toContain('ferry/archive.json');
    // The shared layer is written once.
    expect(Object.keys(index.blobs)).toHaveLength(new Set(Object.keys(index.blobs)).size);

    const results = await pushTo(dir, 'round');
    expect(results.map((r) => r.status)).toEqual(names.map(() => 'copied'));
    await push(src.url, `${ns}/solo`, '1', solo);
    for (const [name, manifest] of images) {
      const [repo, tag] = name.split(':') as [string, string];
      expect(await remoteDigest(dst.url, `round/${ns}/${repo}`, tag)).toBe(manifest.digest);
    }
  });

  it('writes only what earlier archives of the directory did not ship, and says which parts it builds on', async () => {
    const dir = join(work, 'incremental');
    const first = await write(dir, ['app:1']);
    const history = JSON.parse(await readFile(join(dir, historyFile), 'utf8')) as { parts: string[] };
    const second = await write(dir, ['app:2']);
    const firstBlobs = Object.keys(first.index.blobs);
    expect(Object.keys(second.index.blobs).filter((d) => firstBlobs.includes(d))).toEqual([]);
    expect(second.index.buildsOn).toEqual(history.parts);
    expect(second.index.parts[0]!.name).not.toBe(first.index.parts[0]!.name);
    // The shared layer is needed from the first archive.
    expect(second.index.images[0]!.earlier.map((e) => e.part)).toEqual([
      first.index.blobs[second.index.images[0]!.earlier[0]!.digest]!.part,
    ]);

    // Alone, the second archive is refused where the first was never pushed; pushed after the first, it arrives.
    await expect(pushTo(dir, 'incr-alone')).rejects.toThrow(
      /lacks content of earlier archives: .*mirror_000001\.tar.*nothing pushed/,
    );
    expect(await remoteDigest(dst.url, `incr-alone/${ns}/app`, '2')).toBeUndefined();
  });

  it('refuses an archive with a missing or foreign part before pushing anything, naming the part', async () => {
    const dir = join(work, 'missing');
    await write(dir, ['app:1', 'big:1', 'multi:1']);
    const parts = (await readdir(dir)).filter((f) => f.endsWith('.tar')).sort();
    await rm(join(dir, parts[1]!));
    await expect(pushTo(dir, 'missing')).rejects.toThrow(`part ${parts[1]} is missing`);
    expect(await remoteDigest(dst.url, `missing/${ns}/app`, '1')).toBeUndefined();
  });

  it('fails an image whose blob is corrupted in its part on the digest, and pushes no manifest for it', async () => {
    const dir = join(work, 'corrupt');
    const { index } = await write(dir, ['app:1', 'solo:1']);
    const layer = solo.blobs[1]!;
    const where = index.blobs[layer.digest]!;
    const file = await open(join(dir, where.part), 'r+');
    await file.write(Buffer.from([layer.data[100]! ^ 0xff]), 0, 1, where.offset + 100);
    await file.close();
    const results = await pushTo(dir, 'corrupt');
    const failed = results.find((r) => r.destination.includes('/solo'));
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/hashes to/) as unknown });
    expect(await remoteDigest(dst.url, `corrupt/${ns}/solo`, '1')).toBeUndefined();
    const blob = await fetch(`${dst.url}/v2/corrupt/${ns}/solo/blobs/${layer.digest}`, { method: 'HEAD' });
    expect(blob.status).toBe(404);
    expect(await remoteDigest(dst.url, `corrupt/${ns}/app`, '1')).toBe(images.get('app:1')!.digest);
  });
});
