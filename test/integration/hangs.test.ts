import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type BuiltManifest, buildImage, Rng, writeLayout } from '../support/fixtures.js';
import { type CliResult, cleanEnv, repoRoot } from '../support/cli.js';

// Issue 7 point 11: every I/O has a bound. Scripted peers on loopback stall or trickle; the copy
// must end with exit 1 and one line naming what hung. The bounds are set small here; the test
// timeout is only a generous backstop, and a hung child is killed rather than left spinning.

const { seed, dst } = inject('registries');
const rng = new Rng(seed + 71);
const repo = (name: string): string => `hang/${name}-${rng.int(1e9)}`;
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(stops.map((stop) => stop()));
});

/** Runs the built CLI, killed after `killAfterMs` (a regression must fail the test, not hang the suite). */
function ferry(args: string[], killAfterMs = 45_000): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ferry.js'), ...args], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: killAfterMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Accepts connections and never answers (nor closes them). */
async function silentPeer(): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/**
 * A registry serving one image whose last layer's body misbehaves after its headers:
 * `trickle` sends a byte every 50 ms (below any sane rate, yet never idle), `stall` sends
 * half of it and then nothing.
 */
async function slowRegistry(image: BuiltManifest, mode: 'trickle' | 'stall'): Promise<string> {
  const slow = image.blobs[image.blobs.length - 1]!;
  const server: Server = createHttpServer((req, res) => {
    const url = req.url ?? '/';
    const head = req.method === 'HEAD';
    if (url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    if (url.includes('/manifests/')) {
      res.writeHead(200, {
        'content-type': image.mediaType,
        'docker-content-digest': image.digest,
        'content-length': image.bytes.length,
      });
      return void res.end(head ? undefined : image.bytes);
    }
    const blob = image.blobs.find((b) => url.endsWith(`/blobs/${b.digest}`));
    if (!blob) return void res.writeHead(404).end();
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': blob.size,
      'docker-content-digest': blob.digest,
    });
    if (head) return void res.end();
    if (blob !== slow) return void res.end(blob.data);
    if (mode === 'stall') return void res.write(blob.data.subarray(0, blob.size >> 1));
    let sent = 0;
    const timer = setInterval(() => {
      if (sent < blob.size) res.write(blob.data.subarray(sent, ++sent));
    }, 50);
    res.on('close', () => clearInterval(timer));
  });
  server.on('connection', (socket) => socket.on('error', () => undefined));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  stops.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  return `127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const oneLine = (stderr: string): string[] => stderr.trim().split('\n');

describe('a registry that accepts the connection and never answers', () => {
  it('fails with exit 1 and one line naming the registry, bounded by --idle-timeout', async () => {
    const host = await silentPeer();
    const name = repo('silent');
    const result = await ferry(['copy', '--idle-timeout', '1', `${host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(host);
    expect(result.stderr).toMatch(/no response .*within 1 s \(idle timeout\)/);
  });
});

// A small layer goes through undici, a 2 MiB one through the pooled stream exchange: both paths.
describe.each([
  ['undici', 32 * 1024],
  ['pooled streams', 2 << 20],
] as const)('a registry whose blob body misbehaves (via %s)', (_via, layerBytes) => {
  it('fails a blob that trickles below --min-rate with one retryable-error line naming registry, repository, digest and rate', async () => {
    const image = buildImage({ layers: [rng.bytes(layerBytes)] });
    const host = await slowRegistry(image, 'trickle');
    const name = repo('trickle');
    const result = await ferry([
      'copy',
      '--idle-timeout',
      '30',
      '--min-rate',
      '1KiB/s',
      '--min-rate-window',
      '1',
      `${host}/${name}:v1`,
      `${dst.host}/${name}:v1`,
    ]);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    const layer = image.blobs[image.blobs.length - 1]!;
    expect(result.stderr).toContain(`blob ${layer.digest} from ${host}/${name} to ${dst.host}/${name}`);
    expect(result.stderr).toMatch(/moved \d+ B\/s over 1 s, below the minimum rate of 1\.0 KiB\/s/);
  });

  it('fails a blob whose body stops mid-way, bounded by --idle-timeout, with one line naming the registry', async () => {
    const image = buildImage({ layers: [rng.bytes(layerBytes)] });
    const host = await slowRegistry(image, 'stall');
    const name = repo('stall');
    const result = await ferry(['copy', '--idle-timeout', '1', `${host}/${name}:v1`, `${dst.host}/${name}:v1`]);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    const layer = image.blobs[image.blobs.length - 1]!;
    expect(result.stderr).toContain(`${host}/${name}: blob ${layer.digest}: no data`);
    expect(result.stderr).toContain('idle timeout');
  });
});

describe('local paths', () => {
  it("fails at once on a layout directory that cannot be created (oci:/proc/…: Node's recursive mkdir would spin forever)", async () => {
    const layout = mkdtempSync(join(tmpdir(), 'ferry-hang-'));
    await writeLayout(layout, 'v1', buildImage({ layers: [rng.bytes(1000)] }));
    const target = `/proc/ferry-${rng.int(1e9)}/layout`;
    const result = await ferry(['copy', `oci:${layout}:v1`, `oci:${target}:v1`], 20_000);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`oci:${target}: cannot create directory /proc/ferry-\\d+: ENOENT`));
  });

  it('names the path and the cause when a layout path runs through a file', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'ferry-hang-'));
    await writeLayout(layout, 'v1', buildImage({ layers: [rng.bytes(1000)] }));
    const target = join(layout, 'oci-layout', 'below-a-file');
    const result = await ferry(['copy', `oci:${layout}:v1`, `oci:${target}:v1`], 20_000);
    expect(result.code, result.stderr).toBe(1);
    expect(oneLine(result.stderr)).toHaveLength(1);
    expect(result.stderr).toContain(`oci:${target}: cannot read ${target}/index.json: ENOTDIR`);
  });
});
