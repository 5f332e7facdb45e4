import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildImage, buildIndex, push, remoteDigest, Rng } from '../support/fixtures.js';
import { runFerry, skopeoDigest } from '../support/cli.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 3);
const repo = (name: string): string => `cli/${name}-${rng.int(1e9)}`;

describe('--referrers', () => {
  it('copies referrers via the fallback tag and cosign tags, keeping every digest', async () => {
    const image = buildImage({ layers: [rng.bytes(20_000)] });
    const subject = { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length };
    const sbom = buildImage({
      artifactType: 'application/spdx+json',
      configMediaType: 'application/vnd.oci.empty.v1+json',
      config: Buffer.from('{}'),
      layers: [rng.bytes(3_000)],
      layerMediaType: 'application/spdx+json',
      subject,
    });
    const sbomSig = buildImage({
      artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      configMediaType: 'application/vnd.oci.empty.v1+json',
      config: Buffer.from('{}'),
      layers: [rng.bytes(500)],
      layerMediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
      subject: { mediaType: sbom.mediaType, digest: sbom.digest, size: sbom.bytes.length },
    });
    const cosignSig = buildImage({
      layers: [rng.bytes(300)],
      layerMediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
    });
    const fallback = (m: typeof sbom, artifactType: string) => ({
      ...buildIndex([]),
      bytes: Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [{ mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, artifactType }],
        }),
      ),
    });
    const name = repo('referrers');
    await push(src.url, name, 'v1', image);
    await push(src.url, name, sbom.digest, sbom);
    await push(src.url, name, sbomSig.digest, sbomSig);
    const imageFallback = fallback(sbom, 'application/spdx+json');
    const sbomFallback = fallback(sbomSig, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    const tagOf = (digest: string) => `sha256-${digest.slice(7)}`;
    await push(src.url, name, tagOf(image.digest), { ...imageFallback, digest: '' });
    await push(src.url, name, tagOf(sbom.digest), { ...sbomFallback, digest: '' });
    await push(src.url, name, `${tagOf(image.digest)}.sig`, cosignSig);

    const result = await runFerry([
      'copy',
      '--json',
      '--referrers',
      `${src.host}/${name}:v1`,
      `${dst.host}/${name}:v1`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest: image.digest, referrers: 3 });
    expect(await remoteDigest(dst.url, name, sbom.digest)).toBe(sbom.digest);
    expect(await remoteDigest(dst.url, name, sbomSig.digest)).toBe(sbomSig.digest);
    expect(await skopeoDigest(`${dst.host}/${name}:${tagOf(image.digest)}`)).toBe(
      await remoteDigest(src.url, name, tagOf(image.digest)),
    );
    expect(await remoteDigest(dst.url, name, tagOf(sbom.digest))).toBe(
      await remoteDigest(src.url, name, tagOf(sbom.digest)),
    );
    expect(await skopeoDigest(`${dst.host}/${name}:${tagOf(image.digest)}.sig`)).toBe(cosignSig.digest);

    const again = await runFerry(['copy', '--json', '--referrers', `${src.host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'skipped', bytes: 0 });
  });

  it('without --referrers copies only the image', async () => {
    const image = buildImage({ layers: [rng.bytes(2_000)] });
    const cosignSig = buildImage({ layers: [rng.bytes(300)] });
    const name = repo('no-referrers');
    await push(src.url, name, 'v1', image);
    await push(src.url, name, `sha256-${image.digest.slice(7)}.sig`, cosignSig);
    const result = await runFerry(['copy', '--json', `${src.host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(result.code).toBe(0);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
    // The signature tag exists at the source (so its absence here is the flag's doing).
    expect(await remoteDigest(src.url, name, `sha256-${image.digest.slice(7)}.sig`)).toBe(cosignSig.digest);
    expect(await remoteDigest(dst.url, name, `sha256-${image.digest.slice(7)}.sig`)).toBeUndefined();
  });
});

describe('ferry copy and ferry mirror (CLI contract)', () => {
  it('prints the pinned JSON object with --json', async () => {
    const image = buildImage({ layers: [rng.bytes(10_000)] });
    const name = repo('json');
    await push(src.url, name, 'v1', image);
    const result = await runFerry([
      'copy',
      '--json',
      `docker://${src.host}/${name}:v1`,
      `docker://${dst.host}/${name}:v1`,
    ]);
    expect(result.code).toBe(0);
    const parsed: unknown = JSON.parse(result.stdout);
    expect(parsed).toEqual({
      source: `${src.host}/${name}:v1`,
      destination: `${dst.host}/${name}:v1`,
      digest: image.digest,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      status: 'copied',
      blobs: { copied: 2, mounted: 0, skipped: 0 },
      bytes: image.blobs.reduce((n, b) => n + b.size, 0),
    });
  });

  it('exits 2 with usage errors: missing argument, bad reference, bad platform, unknown flag', async () => {
    for (const args of [
      ['copy', `${src.host}/x:v1`],
      ['copy', 'UPPER/case:v1', `${dst.host}/x:v1`],
      ['copy', '--platform', 'linux', `${src.host}/x:v1`, `${dst.host}/x:v1`],
      ['copy', '--bogus', `${src.host}/x:v1`, `${dst.host}/x:v1`],
      ['copy', 'ftp://host/x:v1', `${dst.host}/x:v1`],
      ['mirror', '--to', dst.host],
    ]) {
      const result = await runFerry(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
    }
  });

  it('mirrors many images under a prefix, moving a shared base layer once, with one JSON line per image', async () => {
    const base = rng.bytes(200_000);
    const names = Array.from({ length: 5 }, (_, i) => repo(`app${i}`));
    const images = names.map(() => buildImage({ layers: [base, rng.bytes(5_000)] }));
    await Promise.all(names.map((n, i) => push(src.url, n, '1.0', images[i]!)));
    const dir = mkdtempSync(join(tmpdir(), 'ferry-images-'));
    const file = join(dir, 'images.txt');
    writeFileSync(
      file,
      `# the list\n${names
        .slice(2)
        .map((n) => `${src.host}/${n}:1.0`)
        .join('\n')}\n`,
    );
    const result = await runFerry([
      'mirror',
      '--json',
      '--to',
      `${dst.host}/mirror`,
      `${src.host}/${names[0]}:1.0`,
      `${src.host}/${names[1]}:1.0`,
      '--images-file',
      file,
    ]);
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            status: string;
            blobs: { copied: number; mounted: number };
            bytes: number;
            destination: string;
          },
      );
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => l.status === 'copied')).toBe(true);
    expect(lines.reduce((n, l) => n + l.blobs.mounted, 0)).toBe(4);
    expect(lines.reduce((n, l) => n + l.bytes, 0)).toBe(
      base.length + images.reduce((n, im) => n + im.blobs[0]!.size + im.blobs[2]!.size, 0),
    );
    expect(result.stderr).toMatch(/5 images: 5 copied, 0 skipped, 0 failed/);
    for (const [i, n] of names.entries())
      expect(await remoteDigest(dst.url, `mirror/${n}`, '1.0')).toBe(images[i]!.digest);
  });

  it('mirror exits 1 when an image fails and reports the others', async () => {
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('partial');
    await push(src.url, name, '1.0', image);
    const result = await runFerry([
      'mirror',
      '--to',
      dst.host,
      `${src.host}/${name}:1.0`,
      `${src.host}/${name}:missing`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`copied\\s+${src.host}/${name}:1.0`));
    expect(result.stdout).toMatch(new RegExp(`failed\\s+${src.host}/${name}:missing .*not found`));
    expect(result.stderr).toMatch(/2 images: 1 copied, 0 skipped, 1 failed/);
  });
});
