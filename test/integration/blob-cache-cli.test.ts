import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, type CliResult, runFerry } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1111);
let source: FaultProxy;
let destination: FaultProxy;
beforeAll(async () => {
  source = await startFaultProxy(src.url);
  destination = await startFaultProxy(dst.url);
});
afterAll(async () => {
  await source.stop();
  await destination.stop();
});

/** An image of one layer at the source (through its proxy), and where its copies go. */
async function fixture(name: string) {
  const prefix = `blobcache/${name}-${rng.int(1e9)}`;
  const image = buildImage({ layers: [rng.bytes(300_000 + rng.int(1000))] });
  await push(src.url, `${prefix}/app`, 'v1', image);
  const layer = image.blobs[1]!.digest;
  return {
    image,
    layer,
    from: `${source.host}/${prefix}/app:v1`,
    to: (repository: string) => `${destination.host}/${prefix}/${repository}:v1`,
    repository: (repository: string) => `${prefix}/${repository}`,
  };
}

/** Runs the CLI and counts, during that run, GETs of `layer` at the source and mount POSTs at the destination. */
async function counted(args: string[], env: NodeJS.ProcessEnv, layer: string) {
  const [s, d] = [source.seen.length, destination.seen.length];
  const result: CliResult = await runFerry(args, env);
  const layerGets = source.seen.slice(s).filter((r) => r.method === 'GET' && r.url.endsWith(`/blobs/${layer}`));
  const mounts = destination.seen
    .slice(d)
    .filter((r) => r.method === 'POST' && r.url.includes(`mount=${encodeURIComponent(layer)}`))
    .map((r) => decodeURIComponent(/[?&]from=([^&]+)/.exec(r.url)?.[1] ?? ''));
  return { result, layerGets: layerGets.length, mounts };
}

const blobs = (result: CliResult): unknown =>
  (JSON.parse(result.stdout.trim().split('\n')[0]!) as { blobs: unknown }).blobs;

describe('the CLI blob location cache, across processes', () => {
  it('a second `ferry copy` into another repository mounts the layer the first uploaded; --no-cache streams it again', async () => {
    const f = await fixture('copy');
    const env = cleanEnv();
    const first = await counted(['copy', '--json', f.from, f.to('a')], env, f.layer);
    expect(first.result.code, first.result.stderr).toBe(0);
    expect(first.layerGets).toBe(1);
    expect(existsSync(join(env.HOME!, '.cache', 'ferry', 'blob-locations'))).toBe(true);

    const second = await counted(['copy', '--json', f.from, f.to('b')], env, f.layer);
    expect(second.result.code, second.result.stderr).toBe(0);
    expect(second.layerGets).toBe(0);
    expect(second.mounts).toEqual([f.repository('a')]);
    expect(blobs(second.result)).toEqual({ copied: 0, mounted: 2, skipped: 0 });
    expect(await remoteDigest(dst.url, f.repository('b'), 'v1')).toBe(f.image.digest);

    const off = await counted(['copy', '--json', '--no-cache', f.from, f.to('c')], env, f.layer);
    expect(off.result.code, off.result.stderr).toBe(0);
    expect(off.layerGets).toBe(1);
    expect(off.mounts).toEqual([]);
    expect(blobs(off.result)).toEqual({ copied: 2, mounted: 0, skipped: 0 });

    // `ferry mirror` reads the same cache.
    const mirrored = await counted(
      ['mirror', '--json', '--to', `${destination.host}/${f.repository('m')}`, f.from],
      env,
      f.layer,
    );
    expect(mirrored.result.code, mirrored.result.stderr).toBe(0);
    expect(mirrored.layerGets).toBe(0);
    expect(blobs(mirrored.result)).toMatchObject({ copied: 0, mounted: 2 });

    // So does `ferry mirror --config` (and --release, which runs through it).
    const dir = mkdtempSync(join(tmpdir(), 'ferry-cache-set-'));
    const config = join(dir, 'set.yaml');
    writeFileSync(
      config,
      `apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages:\n    - name: ${f.from}\n`,
    );
    const set = await counted(
      [
        'mirror',
        '--config',
        config,
        '--workspace',
        join(dir, 'ws'),
        '--to',
        `${destination.host}/${f.repository('s')}`,
      ],
      env,
      f.layer,
    );
    expect(set.result.code, set.result.stderr).toBe(0);
    expect(set.layerGets).toBe(0);
    expect(set.mounts).toHaveLength(1);
  });

  it('--no-cache neither reads nor writes the cache', async () => {
    const f = await fixture('nocache');
    const env = cleanEnv();
    expect((await runFerry(['copy', '--no-cache', f.from, f.to('a')], env)).code).toBe(0);
    expect(existsSync(join(env.HOME!, '.cache', 'ferry'))).toBe(false);
    const again = await counted(['copy', '--json', f.from, f.to('b')], env, f.layer);
    expect(again.layerGets).toBe(1);
  });

  it('a mount from a location deleted in between fails, the copy streams and completes, and the location is forgotten', async () => {
    const f = await fixture('stale');
    const env = cleanEnv({ XDG_CACHE_HOME: join(cleanEnv().HOME!, 'xdg') });
    expect((await runFerry(['copy', f.from, f.to('a')], env)).code).toBe(0);
    expect(existsSync(join(env.XDG_CACHE_HOME!, 'ferry', 'blob-locations'))).toBe(true);
    // The layer is gone from dst/a (distribution unlinks it from that repository).
    const deleted = await fetch(`${dst.url}/v2/${f.repository('a')}/blobs/${f.layer}`, { method: 'DELETE' });
    expect(deleted.status).toBe(202);

    const stale = await counted(['copy', '--json', f.from, f.to('b')], env, f.layer);
    expect(stale.result.code, stale.result.stderr).toBe(0);
    expect(stale.mounts).toEqual([f.repository('a')]);
    expect(stale.layerGets).toBe(1);
    expect(await remoteDigest(dst.url, f.repository('b'), 'v1')).toBe(f.image.digest);

    // The next process tries only where the blob really is.
    const next = await counted(['copy', '--json', f.from, f.to('c')], env, f.layer);
    expect(next.result.code, next.result.stderr).toBe(0);
    expect(next.mounts).toEqual([f.repository('b')]);
    expect(next.layerGets).toBe(0);
  });
});
