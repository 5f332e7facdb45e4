import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { api, type RunView, waitForRun } from '../support/service.js';

const startServe = (dataDir: string) => startServeProcess(['--data-dir', dataDir]);

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 8);

/** Runs `ferry serve` expecting it to refuse to start: its exit code and stderr. */
function refusedServe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ferry.js'), 'serve', ...args], {
    env: cleanEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve({ code, stderr }));
    // A server that did start is an error of the test, not a hang: stop it.
    child.stderr!.on('data', () => {
      if (/listening on/.test(stderr)) child.kill('SIGTERM');
    });
  });
}

describe('the ferry serve command', () => {
  it('serves the API on embedded defaults, and keeps runs in --data-dir across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
    const repo = `serve/app-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(30_000)] });
    await push(src.url, repo, 'v1', image);
    const first = await startServe(dataDir);
    const started = await api(first.url, 'POST', '/v1/runs', {
      images: [`${src.host}/${repo}:v1`],
      destination: { registry: dst.host, prefix: 'served' },
    });
    expect(started.status).toBe(202);
    const { runId } = started.json as RunView;
    const run = await waitForRun(first.url, runId);
    expect(run.status).toBe('completed');
    expect(await remoteDigest(dst.url, `served/${repo}`, 'v1')).toBe(image.digest);
    expect((await first.stop()).code).toBe(0);

    const second = await startServe(dataDir);
    const again = await api(second.url, 'GET', `/v1/runs/${runId}`);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ runId, status: 'completed', imagesProcessed: 1 });
    expect((await second.stop()).code).toBe(0);
  });

  it('refuses a second server on the same --data-dir or port with one line, and takes over a lock whose process is gone or that predates a reboot', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-serve-'));
    const first = await startServe(dataDir);
    try {
      const sameDir = await refusedServe(['--port', '0', '--data-dir', dataDir]);
      expect(sameDir.code).toBe(2);
      expect(sameDir.stderr).toBe(
        `ferry: --data-dir ${dataDir} is in use by another ferry serve (pid ${first.child.pid}); stop it or choose another directory\n`,
      );
      const port = new URL(first.url).port;
      const samePort = await refusedServe(['--port', port, '--data-dir', mkdtempSync(join(tmpdir(), 'ferry-serve-'))]);
      expect(samePort.code).toBe(2);
      expect(samePort.stderr).toBe(
        `ferry: cannot listen on 127.0.0.1:${port}: the address is in use (--port 0 picks a free port)\n`,
      );
      // The first server is untouched.
      expect((await api(first.url, 'GET', '/v1/runs')).status).toBe(200);
    } finally {
      expect((await first.stop()).code).toBe(0);
    }
    expect(existsSync(join(dataDir, 'ferry-serve.lock'))).toBe(false);

    // A server killed without cleanup leaves its lock behind; the next one takes it over.
    const gone = spawn(process.execPath, ['-e', '']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(join(dataDir, 'ferry-serve.lock'), `${gone.pid}\n`);
    const next = await startServe(dataDir);
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    expect(readFileSync(join(dataDir, 'ferry-serve.lock'), 'utf8')).toBe(`${next.child.pid} ${boot}\n`);
    expect((await next.stop()).code).toBe(0);

    // A lock from before the machine restarted is stale even when its pid now runs another program
    // (here: this test runner); from this boot, that live pid holds the directory.
    writeFileSync(join(dataDir, 'ferry-serve.lock'), `${process.pid} 00000000-0000-4000-8000-000000000000\n`);
    const afterReboot = await startServe(dataDir);
    expect(readFileSync(join(dataDir, 'ferry-serve.lock'), 'utf8')).toBe(`${afterReboot.child.pid} ${boot}\n`);
    expect((await afterReboot.stop()).code).toBe(0);
    writeFileSync(join(dataDir, 'ferry-serve.lock'), `${process.pid} ${boot}\n`);
    const held = await refusedServe(['--port', '0', '--data-dir', dataDir]);
    expect(held).toEqual({
      code: 2,
      stderr: `ferry: --data-dir ${dataDir} is in use by another ferry serve (pid ${process.pid}); stop it or choose another directory\n`,
    });
  });
});
