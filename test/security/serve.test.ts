import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { startServeProcess } from '../support/serve-process.js';
import { startService } from '../support/service.js';

interface Reply {
  status: number;
  message: string | undefined;
  headers: Record<string, string | string[] | undefined>;
}

/** A plain HTTP client that sends exactly these headers (fetch would not let a test set Host). */
function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let message: string | undefined;
          try {
            message = (JSON.parse(text) as { message?: string }).message;
          } catch {
            message = undefined;
          }
          resolve({ status: res.statusCode ?? 0, message, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const runBody = JSON.stringify({
  images: ['127.0.0.1:1/nothing/here:v1'],
  destination: { registry: '127.0.0.1:1' },
  dryRun: true,
});

describe('ferry serve refuses what a web page or another machine could send', () => {
  let server: RunningServer;
  let port: string;
  let own: string;
  beforeAll(async () => {
    server = await startService();
    port = new URL(server.url).port;
    own = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  /** The runs stored so far: a refused request must leave this unchanged. */
  const runIds = async (): Promise<string> => server.dumpTable();

  it('refuses a Host that is not the address served (DNS rebinding) with 421, writing nothing', async () => {
    const before = await runIds();
    for (const host of [
      `rebind.attacker.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
      '127.0.0.1',
      `192.168.0.10:${port}`,
    ]) {
      const post = await send(server.url, 'POST', '/v1/runs', { host, 'content-type': 'application/json' }, runBody);
      expect(post.status, host).toBe(421);
      expect(post.message).toBe(
        `Host "${host}" is not the address ferry serve listens on (${own}); refused (DNS rebinding protection)`,
      );
      expect((await send(server.url, 'GET', '/v1/runs', { host })).status).toBe(421);
    }
    expect(await runIds()).toBe(before);
  });

  it('accepts the loopback names of the address served', async () => {
    for (const host of [own, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
      expect((await send(server.url, 'GET', '/v1/runs', { host })).status, host).toBe(200);
    }
  });

  it('refuses a foreign Origin with 403, writing nothing; accepts its own origin', async () => {
    const before = await runIds();
    for (const origin of [
      'http://attacker.example',
      'null',
      `https://${own}`,
      `http://localhost:${Number(port) + 1}`,
    ]) {
      const post = await send(
        server.url,
        'POST',
        '/v1/runs',
        { host: own, origin, 'content-type': 'application/json' },
        runBody,
      );
      expect(post.status, origin).toBe(403);
      expect(post.message).toBe(
        `Origin "${origin}" is not ferry serve's own (http://${own}); cross-site requests are refused`,
      );
    }
    expect(await runIds()).toBe(before);
    expect((await send(server.url, 'GET', '/v1/runs', { host: own, origin: `http://${own}` })).status).toBe(200);
  });

  it('refuses state-changing requests that are not application/json with 415 (the simple requests a page may send cross-site)', async () => {
    const before = await runIds();
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      const post = await send(
        server.url,
        'POST',
        '/v1/runs',
        { host: own, ...(type === undefined ? {} : { 'content-type': type }) },
        runBody,
      );
      expect(post.status, type).toBe(415);
      expect(post.message).toMatch(/^Content-Type: application\/json is required for POST \(got /);
    }
    // Cancel is state-changing too: a form post must not cancel a run.
    expect(
      (
        await send(
          server.url,
          'POST',
          '/v1/runs/0f0e0d0c-0000-4000-8000-000000000000/cancel',
          { host: own, 'content-type': 'text/plain' },
          '',
        )
      ).status,
    ).toBe(415);
    expect(await runIds()).toBe(before);
    // JSON (with a charset) goes on to the API, which judges the body.
    const accepted = await send(
      server.url,
      'POST',
      '/v1/runs',
      { host: own, 'content-type': 'application/json; charset=utf-8' },
      '{"images": []}',
    );
    expect(accepted).toMatchObject({ status: 400, message: 'images: needs at least one image' });
  });
});

describe('ferry serve --token', () => {
  const token = 'ferry-test-token-0123456789abcdef';
  let server: RunningServer;
  let own: string;
  beforeAll(async () => {
    server = await startService({ token });
    own = new URL(server.url).host;
  });
  afterAll(async () => {
    await server.close();
  });

  it('requires Authorization: Bearer TOKEN on every request (401 otherwise, nothing written)', async () => {
    const before = JSON.stringify(await server.dumpTable());
    for (const authorization of [
      undefined,
      'Bearer wrong-token-0123456789abcdef',
      `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(0, -1)}`,
      'Bearer',
    ]) {
      const headers = {
        host: own,
        'content-type': 'application/json',
        ...(authorization === undefined ? {} : { authorization }),
      };
      const post = await send(server.url, 'POST', '/v1/runs', headers, runBody);
      expect(post.status, authorization).toBe(401);
      expect(post.message).toBe('Authorization: Bearer TOKEN (the --token ferry serve was started with) is required');
      expect(post.headers['www-authenticate']).toBe('Bearer realm="ferry"');
      expect((await send(server.url, 'GET', '/v1/runs', headers)).status).toBe(401);
    }
    expect(JSON.stringify(await server.dumpTable())).toBe(before);
    expect((await send(server.url, 'GET', '/v1/runs', { host: own, authorization: `Bearer ${token}` })).status).toBe(
      200,
    );
    expect((await send(server.url, 'GET', '/v1/runs', { host: own, authorization: `bearer ${token}` })).status).toBe(
      200,
    );
  });

  it('still checks Host and Origin when the token is right', async () => {
    const authorization = `Bearer ${token}`;
    expect((await send(server.url, 'GET', '/v1/runs', { host: 'attacker.example', authorization })).status).toBe(421);
    expect(
      (await send(server.url, 'GET', '/v1/runs', { host: own, origin: 'http://attacker.example', authorization }))
        .status,
    ).toBe(403);
  });
});

/** Runs `ferry serve` expecting it to refuse to start; a server that did start is stopped (and the test fails). */
function refusedServe(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<{ code: number | null; stderr: string }> {
  // In a network namespace of its own (loopback only): even a server that wrongly started
  // could not be reached from, or listen on, any address of this machine.
  const child = spawn(
    'unshare',
    [
      '-n',
      'sh',
      '-c',
      'ip link set lo up && exec "$@"',
      'sh',
      process.execPath,
      join(repoRoot, 'bin', 'ferry.js'),
      'serve',
      '--port',
      '0',
      ...args,
    ],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (/listening on/.test(stderr)) child.kill('SIGTERM');
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('the ferry serve command', () => {
  it('refuses a non-loopback --host without a token, before listening (exit 2)', async () => {
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'my-laptop.example']) {
      const refused = await refusedServe(['--host', host]);
      expect(refused.stderr).toBe(
        `ferry: --host ${host} is not a loopback address: anyone who reaches it could start runs with your credentials; pass --token TOKEN (or set FERRY_SERVE_TOKEN), or listen on 127.0.0.1\n`,
      );
      expect(refused.code).toBe(2);
    }
  });

  it('refuses a guessable token (exit 2)', async () => {
    const refused = await refusedServe(['--token', 'short']);
    expect(refused).toEqual({
      code: 2,
      stderr: 'ferry: --token must be at least 16 characters (or set FERRY_SERVE_TOKEN)\n',
    });
    const fromEnv = await refusedServe(['--host', '0.0.0.0'], cleanEnv({ FERRY_SERVE_TOKEN: 'short' }));
    expect(fromEnv).toEqual({
      code: 2,
      stderr: 'ferry: --token must be at least 16 characters (or set FERRY_SERVE_TOKEN)\n',
    });
  });

  it('takes the token from FERRY_SERVE_TOKEN', async () => {
    const token = 'env-token-0123456789abcdef';
    const server = await startServeProcess([], cleanEnv({ FERRY_SERVE_TOKEN: token }));
    try {
      const host = new URL(server.url).host;
      expect((await send(server.url, 'GET', '/v1/runs', { host })).status).toBe(401);
      expect((await send(server.url, 'GET', '/v1/runs', { host, authorization: `Bearer ${token}` })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
