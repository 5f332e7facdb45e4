import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { BufferPool } from '../../functions/oci/buffer-pool.js';
import { isRetryable } from '../../functions/oci/retry.js';
import { ChunkedDecoder } from '../../functions/oci/chunked-decoder.js';
import { streamExchange, type StreamResponse } from '../../functions/oci/stream-exchange.js';
import { buildImage, push, Rng } from '../support/fixtures.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 11);
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** A scripted HTTP peer: `script` gets each connection and what the client sent so far (head). */
async function scripted(script: (socket: Socket, head: string) => void): Promise<URL> {
  const server = createServer((socket) => {
    let head = '';
    const onData = (data: Buffer): void => {
      head += data.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      script(socket, head);
    };
    socket.on('data', onData);
    socket.on('error', () => undefined);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return new URL(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/v2/x/blobs/sha256:0`);
}

const options = (pool = new BufferPool(64 * 1024, 16)) => ({ rejectUnauthorized: true, pool, idleTimeoutMs: 5_000 });
const get = (url: URL, pool?: BufferPool): Promise<StreamResponse> =>
  streamExchange({ method: 'GET', url, headers: {}, body: null }, options(pool));

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

describe('the pooled stream exchange (HTTP/1.1 for blob bodies)', () => {
  it('decodes a chunked body split anywhere, with extensions and trailers', async () => {
    const payload = rng.bytes(70_000);
    const wire = Buffer.concat([
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
      Buffer.from(`${(30_000).toString(16)};ext=1\r\n`),
      payload.subarray(0, 30_000),
      Buffer.from('\r\n'),
      Buffer.from(`${(40_000).toString(16)}\r\n`),
      payload.subarray(30_000),
      Buffer.from('\r\n'),
      Buffer.from('0\r\nx-trailer: yes\r\n\r\n'),
    ]);
    const url = await scripted((socket) => {
      // Dribble the response in odd pieces so sizes, data and CRLFs straddle reads.
      let at = 0;
      const step = (): void => {
        if (at >= wire.length) return void socket.end();
        const next = Math.min(wire.length, at + 1 + rng.int(9_000));
        socket.write(wire.subarray(at, next), () => setImmediate(step));
        at = next;
      };
      step();
    });
    const res = await get(url);
    expect(res.status).toBe(200);
    expect((await readAll(res.body)).equals(payload)).toBe(true);
  });

  it('rejects malformed chunk sizes', () => {
    expect(() => new ChunkedDecoder().write(Buffer.from('zz\r\n'))).toThrow(/bad chunk size/);
    expect(() => new ChunkedDecoder().write(Buffer.from('2\r\nabc\r\n'))).toThrow(/longer than its size/);
  });

  it('skips 100 Continue, reads a head split across writes, and a body until close', async () => {
    const url = await scripted((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 20');
      setImmediate(() => socket.write('0 OK\r\nX-Multi: a\r\nX-Multi: b\r\n'));
      setTimeout(() => socket.end('\r\nhello, until close'), 20);
    });
    const res = await get(url);
    expect(res.status).toBe(200);
    expect(res.headers['x-multi']).toEqual(['a', 'b']);
    expect((await readAll(res.body)).toString()).toBe('hello, until close');
  });

  it('fails a body cut short with a transient network error, so the copier resumes it', async () => {
    const url = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n');
      socket.end(Buffer.alloc(40_000, 1));
    });
    const res = await get(url);
    const error: unknown = await readAll(res.body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isRetryable(error)).toBe(true);
  });

  it('fails a silent peer after the idle timeout with a transient error', async () => {
    const url = await scripted(() => undefined);
    const error: unknown = await streamExchange(
      { method: 'GET', url, headers: {}, body: null },
      { ...options(), idleTimeoutMs: 50 },
    ).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('ETIMEDOUT');
    expect(isRetryable(error)).toBe(true);
  });

  it('answers an early error response to an upload without waiting for the body', async () => {
    const url = await scripted((socket) =>
      socket.end('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!'),
    );
    // A body that would never end on its own: the exchange must not wait for it.
    const body = new Readable({ read() {} });
    body.push(Buffer.alloc(1000));
    const res = await streamExchange(
      { method: 'PUT', url, headers: { 'content-length': String(1 << 30) }, body },
      options(),
    );
    expect(res.status).toBe(413);
    expect((await readAll(res.body)).toString()).toBe('big!');
  });

  it('refuses header values with line breaks', async () => {
    const url = await scripted((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    await expect(
      streamExchange(
        { method: 'GET', url, headers: { authorization: 'Bearer x\r\nX-Evil: 1' }, body: null },
        options(),
      ),
    ).rejects.toThrow(/line break/);
  });

  it('pipes a real registry blob into a real upload, handing the read buffers back to the pool', async () => {
    const image = buildImage({ layers: [rng.bytes(3 << 20)] });
    const { digest, size } = image.blobs[1]!;
    const repository = `stream/pool-${rng.int(1e9)}`;
    await push(src.url, repository, 'v1', image);
    const pool = new BufferPool(64 * 1024, 64);
    const source = await get(new URL(`${src.url}/v2/${repository}/blobs/${digest}`), pool);
    expect(source.status).toBe(200);
    const start = await fetch(`${dst.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    const location = new URL(start.headers.get('location')!, dst.url);
    location.searchParams.set('digest', digest);
    const upload = await streamExchange(
      {
        method: 'PUT',
        url: location,
        headers: { 'content-length': String(size), 'content-type': 'application/octet-stream' },
        body: source.body,
      },
      options(pool),
    );
    expect(upload.status).toBe(201);
    await readAll(upload.body);
    expect(pool.available).toBeGreaterThan(0);
    const stored = await fetch(`${dst.url}/v2/${repository}/blobs/${digest}`);
    expect(
      createHash('sha256')
        .update(Buffer.from(await stored.arrayBuffer()))
        .digest('hex'),
    ).toBe(digest.slice(7));
  });
});
