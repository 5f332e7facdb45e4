import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ErrorNames } from '../../functions/oci/errors.js';
import { type ImageCheckpoint, parseCheckpoint } from '../../functions/mirror/blob-checkpoint.js';
import type { ResumableCopyResult } from '../../functions/mirror/copy-image.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { createEngine } from '../support/engine.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { type LargeImage, pushLargeImage, servedDigest } from '../support/large-layer.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { remoteDigest, Rng } from '../support/fixtures.js';

const MiB = 1024 * 1024;
const driver = join(repoRoot, 'test/support/resume-driver.mjs');
const part = 8 * MiB;
const { seed } = inject('registries');
const rng = new Rng(seed + 11);
let src: RunningRegistry;
let dst: RunningRegistry;
const proxies: FaultProxy[] = [];

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
});
afterAll(async () => {
  await Promise.all([...proxies.map((p) => p.stop()), src.stop(), dst.stop()]);
});

/** A large image in a repository of its own on the source registry. */
async function largeImage(name: string, size: number): Promise<{ repo: string; image: LargeImage }> {
  const repo = `resume/${name}-${rng.int(1e9)}`;
  return { repo, image: await pushLargeImage(src.url, repo, 'v1', size, rng.int(1e9)) };
}

/**
 * One invocation of the copy in a NEW engine: the deadline comes near once `budget` bytes were read
 * in it (not a clock: the deadline function reads the copy's own progress). The checkpoint goes in
 * and out as JSON, as a store would keep it.
 */
async function invoke(
  from: { host: string; repo: string },
  to: { host: string; repo: string },
  checkpointJson: string | undefined,
  budget: number,
): Promise<ResumableCopyResult> {
  const checkpoint = checkpointJson === undefined ? undefined : parseCheckpoint(JSON.parse(checkpointJson));
  if (checkpointJson !== undefined) expect(checkpoint).toBeDefined();
  // Bytes read in this invocation, over every blob: each from where its parked upload stood.
  const base = new Map(checkpoint?.uploads.map((u) => [u.digest as string, u.offset]) ?? []);
  const latest = new Map<string, number>();
  const read = (): number => [...latest].reduce((sum, [digest, done]) => sum + done - (base.get(digest) ?? 0), 0);
  const engine = createEngine({ blobs: { progress: { onBytes: (d, done) => latest.set(d.digest, done) } } });
  try {
    const image = (host: string, repository: string, role: 'source' | 'destination') =>
      engine.registries.image({ kind: 'registry', ref: { registry: host, repository, tag: 'v1' } }, role);
    return await engine.copier.copyResumable(
      image(from.host, from.repo, 'source'),
      image(to.host, to.repo, 'destination'),
      { deadline: { remainingMs: () => (read() >= budget ? 0 : 3_600_000) }, checkpoint, chunkSize: part },
    );
  } finally {
    await engine.close();
  }
}

/** The same invocation in a process of its own (Ferry from dist/: `npm run build` first), the checkpoint over a pipe. */
function invokeInChild(
  from: { host: string; repo: string },
  to: { host: string; repo: string },
  checkpointJson: string | undefined,
  budget: number,
): Promise<ResumableCopyResult> {
  const input = JSON.stringify({
    from,
    to,
    ...(checkpointJson === undefined ? {} : { checkpoint: JSON.parse(checkpointJson) as unknown }),
    budget,
    chunkSize: part,
  });
  return new Promise((resolvePromise, reject) => {
    const child = execFile(process.execPath, [driver], { env: cleanEnv() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`resume-driver: ${stderr}`));
      else resolvePromise(JSON.parse(stdout) as ResumableCopyResult);
    });
    child.stdin?.end(input);
  });
}

/** Pulls the whole image with skopeo (an independent client that verifies every blob digest). */
function skopeoPull(reference: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-resume-pull-'));
  return new Promise((resolvePromise, reject) => {
    execFile(
      'skopeo',
      ['copy', '--src-tls-verify=false', `docker://${reference}`, `oci:${dir}:v1`],
      { env: cleanEnv() },
      (err, _stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        if (err) reject(new Error(`skopeo copy ${reference}: ${stderr}`));
        else resolvePromise();
      },
    );
  });
}

function parked(result: ResumableCopyResult): ImageCheckpoint {
  if (result.status !== 'continue') throw new Error(`expected continue, got ${result.status}`);
  return result.checkpoint;
}

/** The upload session directories docker-registry keeps for a repository. */
function uploadDirs(registry: RunningRegistry, repo: string): string[] {
  const dir = join(registry.dataDir, 'docker/registry/v2/repositories', repo, '_uploads');
  return existsSync(dir) ? readdirSync(dir) : [];
}

describe('a large layer copied across invocations (chunked upload sessions that park at the deadline)', () => {
  it('copies a 96 MiB layer over 4 invocations, each in a new engine (one in a new process), byte-identical, with contiguous parts', async () => {
    const { repo, image } = await largeImage('big', 96 * MiB);
    const seen = await startFaultProxy(dst.url);
    const source = await startFaultProxy(src.url);
    proxies.push(seen, source);
    const from = { host: source.host, repo };
    const to = { host: seen.host, repo: `${repo}-copy` };
    const checkpoints: ImageCheckpoint[] = [];
    let json: string | undefined;
    let result: ResumableCopyResult | undefined;
    for (let invocation = 0; invocation < 6; invocation++) {
      // The second invocation runs in a process of its own: nothing but the checkpoint carries over.
      result = await (invocation === 1 ? invokeInChild : invoke)(from, to, json, 24 * MiB);
      if (result.status !== 'continue') break;
      checkpoints.push(result.checkpoint);
      json = JSON.stringify(result.checkpoint);
      // Parked, nothing above the blob is pushed.
      expect(await remoteDigest(dst.url, to.repo, 'v1').catch(() => undefined)).toBeUndefined();
    }
    expect(checkpoints.map((c) => c.uploads.map((u) => u.offset))).toEqual([[24 * MiB], [48 * MiB], [72 * MiB]]);
    const upload = checkpoints[0]!.uploads[0]!;
    // Registry-relative, no host, no credentials: the registry's own session id.
    expect(upload.location.startsWith(`/v2/${to.repo}/blobs/uploads/`)).toBe(true);
    expect(json).not.toMatch(/authorization|127\.0\.0\.1/i);
    expect(result?.status).toBe('copied');
    if (result?.status !== 'copied') return;
    expect(result.resumed).toEqual({ invocations: 4, notes: [] });
    expect(result.blobs.copied).toBe(2);
    expect(result.bytes).toBe(image.layer.size + image.configSize);
    expect(await remoteDigest(dst.url, to.repo, 'v1')).toBe(image.manifestDigest);
    expect(await servedDigest(dst.url, to.repo, image.layer.digest)).toBe(image.layer.digest);
    await skopeoPull(`${dst.host}/${to.repo}:v1`);
    // Every part a PATCH with Content-Range from where the last ended: 8 MiB, the last one shorter or equal.
    const ranges = seen.seen
      .filter((r) => r.method === 'PATCH')
      .map((r) => String(r.headers['content-range']).split('-').map(Number) as [number, number]);
    expect(ranges[0]![0]).toBe(0);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1] + 1);
    expect(ranges.at(-1)![1]).toBe(image.layer.size - 1);
    expect(ranges.slice(0, -1).every(([a, b]) => b - a + 1 === part)).toBe(true);
    // Each resume confirmed the offset (GET <location>) and read the source from it (Range).
    expect(seen.seen.filter((r) => r.method === 'GET' && r.url.includes('/blobs/uploads/'))).toHaveLength(3);
    const layerGets = source.seen.filter((r) => r.method === 'GET' && r.url.endsWith(image.layer.digest));
    expect(layerGets.map((r) => r.headers.range)).toEqual([
      undefined,
      `bytes=${24 * MiB}-`,
      `bytes=${48 * MiB}-`,
      `bytes=${72 * MiB}-`,
    ]);
  });

  it('parks the large layers of a multi-layer image and goes on with each where it stood', async () => {
    const repo = `resume/layers-${rng.int(1e9)}`;
    const image = await pushLargeImage(src.url, repo, 'v1', [40 * MiB, 33 * MiB + 5], rng.int(1e9));
    const from = { host: src.host, repo };
    const to = { host: dst.host, repo: `${repo}-copy` };
    let json: string | undefined;
    const offsets: number[] = [];
    let result: ResumableCopyResult | undefined;
    for (let invocation = 0; invocation < 8; invocation++) {
      result = await invoke(from, to, json, 32 * MiB);
      if (result.status !== 'continue') break;
      offsets.push(...result.checkpoint.uploads.map((u) => u.offset));
      json = JSON.stringify(result.checkpoint);
    }
    // How the two layers interleave is the scheduler's business; every park is at a whole part.
    expect(offsets.length).toBeGreaterThan(0);
    expect(offsets.every((o) => o > 0 && o % part === 0)).toBe(true);
    expect(result?.status).toBe('copied');
    if (result?.status !== 'copied') return;
    expect(result.blobs.copied).toBe(3);
    expect(await remoteDigest(dst.url, to.repo, 'v1')).toBe(image.manifestDigest);
    for (const layer of image.layers) expect(await servedDigest(dst.url, to.repo, layer.digest)).toBe(layer.digest);
  });

  it('goes on after the destination registry restarted between invocations (its sessions survive on disk)', async () => {
    const { repo, image } = await largeImage('restart', 40 * MiB);
    const from = { host: src.host, repo };
    const to = { host: dst.host, repo: `${repo}-copy` };
    const first = parked(await invoke(from, to, undefined, 16 * MiB));
    await dst.restart();
    const result = await invoke(from, to, JSON.stringify(first), 64 * MiB);
    expect(result.status).toBe('copied');
    if (result.status !== 'copied') return;
    expect(result.resumed).toEqual({ invocations: 2, notes: [] });
    expect(await remoteDigest(dst.url, to.repo, 'v1')).toBe(image.manifestDigest);
  });

  it('restarts a blob whose session the registry lost from byte 0, once, and says so; a second loss fails', async () => {
    const { repo, image } = await largeImage('lost', 48 * MiB);
    const from = { host: src.host, repo };
    const to = { host: dst.host, repo: `${repo}-copy` };
    const first = parked(await invoke(from, to, undefined, 16 * MiB));
    for (const id of uploadDirs(dst, to.repo))
      rmSync(join(dst.dataDir, 'docker/registry/v2/repositories', to.repo, '_uploads', id), { recursive: true });
    const second = parked(await invoke(from, to, JSON.stringify(first), 16 * MiB));
    // Restarted from 0 in a new session; this invocation's budget of reads then parks it at 32 MiB.
    expect(second.uploads[0]).toMatchObject({ restarted: true, offset: 32 * MiB });
    expect(second.uploads[0]!.location).not.toBe(first.uploads[0]!.location.split('?')[0]);
    expect(second.notes).toHaveLength(1);
    expect(second.notes[0]).toMatch(/upload session of sha256:[0-9a-f]{64} was lost .*restarted it from byte 0/);
    for (const id of uploadDirs(dst, to.repo))
      rmSync(join(dst.dataDir, 'docker/registry/v2/repositories', to.repo, '_uploads', id), { recursive: true });
    const err = await invoke(from, to, JSON.stringify(second), 16 * MiB).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe(ErrorNames.uploadUnknown);
    expect(await remoteDigest(dst.url, to.repo, 'v1').catch(() => undefined)).toBeUndefined();
    // The restart of an earlier checkpoint (one loss) still completes the image, and says so.
    const again = await invoke(from, to, JSON.stringify(first), 64 * MiB);
    expect(again.status).toBe('copied');
    if (again.status === 'copied') expect(again.resumed?.notes[0]).toMatch(/restarted it from byte 0/);
    expect(await remoteDigest(dst.url, to.repo, 'v1')).toBe(image.manifestDigest);
  });

  it('fails cleanly when the source bytes changed between invocations: digest mismatch, nothing committed', async () => {
    const { repo, image } = await largeImage('changed', 40 * MiB);
    const from = { host: src.host, repo };
    const to = { host: dst.host, repo: `${repo}-copy` };
    const first = parked(await invoke(from, to, undefined, 16 * MiB));
    // The source registry now serves other bytes past the parked offset under the same digest.
    const hex = image.layer.digest.slice('sha256:'.length);
    const data = join(src.dataDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    const fd = openSync(data, 'r+');
    writeSync(fd, Buffer.from('changed'), 0, 7, 30 * MiB);
    closeSync(fd);
    const err = await invoke(from, to, JSON.stringify(first), 64 * MiB).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe(ErrorNames.digestMismatch);
    expect((err as Error).message).toMatch(/source's bytes changed.*nothing committed/);
    const head = await fetch(`${dst.url}/v2/${to.repo}/blobs/${image.layer.digest}`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(await remoteDigest(dst.url, to.repo, 'v1').catch(() => undefined)).toBeUndefined();
    // The session was cancelled (DELETE), not left holding the wrong bytes.
    const session = await fetch(`${dst.url}${first.uploads[0]!.location}`);
    expect(session.status).toBe(404);
  });
});
