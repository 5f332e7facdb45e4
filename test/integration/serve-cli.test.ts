import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { api, type RunView, waitForRun } from '../support/service.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 8);

/** Starts the real `ferry serve` command and resolves with its URL (printed on stderr). */
function startServe(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ferry.js'), 'serve', '--port', '0', '--data-dir', dataDir], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve({ url, child });
    });
    child.once('exit', (code) => reject(new Error(`ferry serve exited ${code}: ${stderr}`)));
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('the ferry serve command', () => {
  it('serves the API on embedded defaults, and keeps runs in --data-dir across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
    const repo = `serve/app-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(30_000)] });
    await push(src.url, repo, 'v1', image);
    const first = await startServe(dataDir);
    const started = await api(first.url, 'POST', '/v1/runs', { images: [`${src.host}/${repo}:v1`], destination: { registry: dst.host, prefix: 'served' } });
    expect(started.status).toBe(202);
    const { runId } = started.json as RunView;
    const run = await waitForRun(first.url, runId);
    expect(run.status).toBe('completed');
    expect(await remoteDigest(dst.url, `served/${repo}`, 'v1')).toBe(image.digest);
    expect(await stop(first.child)).toBe(0);

    const second = await startServe(dataDir);
    const again = await api(second.url, 'GET', `/v1/runs/${runId}`);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ runId, status: 'completed', imagesProcessed: 1 });
    expect(await stop(second.child)).toBe(0);
  });
});
