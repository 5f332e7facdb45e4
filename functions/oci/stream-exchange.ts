import { connect as connectTcp, isIP, type LookupFunction, type OnReadOpts, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import type { BufferPool } from './buffer-pool.js';
import { unbracket } from './host-port.js';
import { ChunkedDecoder } from './chunked-decoder.js';
import { parseHead } from './http-head.js';
import { absoluteForm, type ProxyEndpoint } from './proxy.js';
import { openTunnel } from './proxy-tunnel.js';

/** One HTTP/1.1 request whose body (or response body) is a blob: a stream of many megabytes. */
export interface StreamRequest {
  readonly method: string;
  readonly url: URL;
  /** Lowercase names. A request body needs `content-length`. */
  readonly headers: Record<string, string>;
  readonly body: Readable | null;
  readonly signal?: AbortSignal | undefined;
}

export interface StreamConnectOptions {
  /** Verify TLS certificates (false only for hosts the caller marked insecure). */
  readonly rejectUnauthorized: boolean;
  readonly ca?: string | Buffer | undefined;
  /** The SSRF guard's resolver, checked at connect time. */
  readonly lookup?: LookupFunction | undefined;
  readonly pool: BufferPool;
  /** Longest silence on the connection before it fails (ETIMEDOUT, retryable). */
  readonly idleTimeoutMs: number;
  /**
   * A forward proxy: https targets through a `CONNECT` tunnel (TLS to the target over it), http
   * targets as absolute-form requests to the proxy. `lookup` is not used for the proxy (operator
   * configuration; the caller checks the target).
   */
  readonly proxy?: ProxyEndpoint | undefined;
  /**
   * With `proxy`, under the SSRF guard: the target's checked address, which the proxy is asked to
   * reach instead of the URL's name (`CONNECT <address>:port`, or an absolute-form URL naming it).
   * TLS is still verified against the name, and `Host` still names it.
   */
  readonly proxyAddress?: string | undefined;
}

export interface StreamResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  /** Object-mode stream of Buffers; pooled chunks go back to the pool when the upload that sends them has written them. */
  readonly body: Readable;
}

const maxHeadBytes = 64 * 1024;
const crlf2 = Buffer.from('\r\n\r\n');

/** A network error the retry layer knows as transient (by its code). */
function networkError(message: string, code: 'ECONNRESET' | 'ETIMEDOUT'): Error {
  return Object.assign(new Error(message), { code });
}

type Framing =
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; decoder: ChunkedDecoder }
  | { kind: 'until-close' }
  | { kind: 'none' };

/**
 * Sends one request on a connection of its own (`Connection: close`) and streams both bodies
 * without allocating per read: the socket reads into buffers of `pool` (Node's `onread`), the
 * response body hands those very buffers on, and a request body's chunks go back to the pool once
 * written. Transport uses it for blob GETs and uploads above its stream threshold — large bodies,
 * where a connection per request costs nothing next to the transfer — and undici for the rest.
 *
 * Resolves when the response head has arrived; the body streams after. Errors carry the socket's
 * codes (ECONNRESET, ETIMEDOUT, …) so the retry layer treats them as undici's.
 */
export function streamExchange(req: StreamRequest, options: StreamConnectOptions): Promise<StreamResponse> {
  return new Promise((resolve, reject) => {
    const { pool } = options;
    const https = req.url.protocol === 'https:';
    const host = unbracket(req.url.hostname);
    const port = Number(req.url.port) || (https ? 443 : 80);
    let head: Buffer = Buffer.alloc(0);
    let framing: Framing | undefined;
    /** Set with `framing` once the head is in: the promise has resolved. */
    let response: Readable | undefined;
    let finished = false;

    const onread = {
      buffer: () => pool.take(),
      callback: (bytes: number, buffer: Buffer): boolean => {
        const chunk = buffer.subarray(0, bytes);
        if (framing === undefined) {
          // The head is copied as it is parsed (and the body bytes after it), so the buffer goes back at once.
          readHead(chunk);
          pool.give(buffer);
          return true;
        }
        return readBody(chunk, buffer);
      },
    };
    const { proxy } = options;
    const lookup = options.lookup === undefined || proxy !== undefined ? {} : { lookup: options.lookup };
    // tls.connect takes `onread` as net.connect does (documented), though @types/node omits it.
    // WARNING: not over a tunnel: given a `socket`, Node drops `onread` (lib/_tls_wrap.js:
    // `onread: !socket ? tlsOptions.onread : null`), so there the decrypted bytes arrive as 'data'
    // events in Node's own buffers and are fed to the same callback (the pool ignores them when given back).
    const tlsOptions = (tunnel: Socket | undefined): ConnectionOptions & { onread: OnReadOpts } => ({
      ...(tunnel === undefined ? { host, port, ...lookup } : { socket: tunnel }),
      rejectUnauthorized: options.rejectUnauthorized,
      ALPNProtocols: ['http/1.1'],
      onread,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    /** Set by {@link start} once connected (after the tunnel, through a proxy). */
    let socket!: Socket;
    const start = (connected: Socket, viaData = false): void => {
      socket = connected;
      if (viaData) {
        socket.on('data', (chunk: Buffer) => {
          if (!onread.callback(chunk.length, chunk)) socket.pause();
        });
      }
      socket.setNoDelay(true);
      socket.setTimeout(
        options.idleTimeoutMs,
        () =>
          waitingForBody(req, socket) ||
          socket.destroy(
            networkError(`no data from ${req.url.host} for ${options.idleTimeoutMs} ms (idle timeout)`, 'ETIMEDOUT'),
          ),
      );
      socket.on('error', fail);
      socket.on('end', () => {
        if (framing === undefined)
          return fail(networkError(`${req.url.host} closed the connection before answering`, 'ECONNRESET'));
        if (framing.kind === 'until-close') return endBody();
        if (!finished)
          fail(networkError(`${req.url.host} closed the connection before the response body ended`, 'ECONNRESET'));
      });
      socket.on('close', () => {
        if (!finished) fail(networkError(`connection to ${req.url.host} closed`, 'ECONNRESET'));
      });
      const onAbort = (): void => {
        socket.destroy(req.signal?.reason instanceof Error ? req.signal.reason : new Error('aborted'));
      };
      if (req.signal?.aborted) return onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => req.signal?.removeEventListener('abort', onAbort));
      writeRequest(
        socket,
        req,
        pool,
        fail,
        https || proxy === undefined ? undefined : { proxy, address: options.proxyAddress },
      );
    };

    const fail = (err: Error): void => {
      if (response === undefined) {
        reject(err); // a no-op after the first
      } else if (!finished) {
        finished = true;
        response.destroy(err);
      }
    };

    const endBody = (): void => {
      if (finished) return;
      finished = true;
      response?.push(null);
      // The exchange is over (Connection: close); an upload body still being sent is cut short.
      socket.destroy();
    };

    /** Accumulates the response head (copied: it is small), then starts the body with what followed it. */
    const readHead = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(crlf2);
      if (end < 0) {
        if (head.length > maxHeadBytes)
          socket.destroy(new Error(`${req.url.host} sent a response head over ${maxHeadBytes} bytes`));
        return;
      }
      const parsed = parseHead(head.subarray(0, end).toString('latin1'));
      const rest = Buffer.from(head.subarray(end + 4));
      head = Buffer.alloc(0);
      if (parsed === undefined) return void socket.destroy(new Error(`${req.url.host} sent a malformed HTTP response`));
      if (parsed.status >= 100 && parsed.status < 200) {
        // 100 Continue and friends: the real head follows.
        if (rest.length > 0) readHead(rest);
        return;
      }
      framing = framingOf(req.method, parsed.status, parsed.headers);
      response = new Readable({
        objectMode: true,
        highWaterMark: 8,
        read: () => socket.resume(),
        destroy: (err, done) => {
          if (!finished) socket.destroy();
          done(err);
        },
      });
      resolve({ status: parsed.status, headers: parsed.headers, body: response });
      if (framing.kind === 'none' || (framing.kind === 'length' && framing.remaining === 0)) endBody();
      else if (rest.length > 0) readBody(rest, undefined);
    };

    /** Hands body bytes on; returns false to pause reading while the consumer is behind. */
    const readBody = (chunk: Buffer, pooled: Buffer | undefined): boolean => {
      if (finished || response === undefined || framing === undefined || framing.kind === 'none') {
        if (pooled) pool.give(pooled);
        return true;
      }
      if (framing.kind === 'until-close') return response.push(chunk);
      if (framing.kind === 'length') {
        const take = Math.min(chunk.length, framing.remaining);
        framing.remaining -= take;
        const more = response.push(take === chunk.length ? chunk : chunk.subarray(0, take));
        if (framing.remaining === 0) endBody();
        return more;
      }
      // Chunked (rare for blobs): the decoded pieces are copies, so the read buffer goes back at once.
      let pieces: Buffer[];
      try {
        pieces = framing.decoder.write(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return false;
      } finally {
        if (pooled) pool.give(pooled);
      }
      let more = true;
      for (const piece of pieces) more = response.push(piece) && more;
      if (framing.decoder.done) endBody();
      return more;
    };

    if (https && proxy !== undefined) {
      openTunnel(proxy, options.proxyAddress ?? host, port, {
        signal: req.signal,
        timeoutMs: options.idleTimeoutMs,
      }).then((tunnel) => start(connectTls(tlsOptions(tunnel)), true), reject);
    } else if (https) {
      start(connectTls(tlsOptions(undefined)));
    } else if (proxy !== undefined) {
      start(connectTcp({ host: proxy.host, port: proxy.port, onread }));
    } else {
      start(connectTcp({ host, port, onread, ...lookup }));
    }
  });
}

/**
 * Whether an upload is waiting for its own body: connected, the body still coming and not paused
 * for backpressure (the peer has taken all of it so far). Silence then is the body's source being
 * slow — its own connection reports that, naming its registry — and the peer owes nothing: the
 * idle timeout does not fire (it does while the peer does not take what is written).
 */
function waitingForBody(req: StreamRequest, socket: Socket): boolean {
  const { body } = req;
  return body !== null && !socket.connecting && !body.readableEnded && !body.destroyed && !body.isPaused();
}

/** Writes the request head, then the body with backpressure; each body chunk goes back to the pool once written. */
function writeRequest(
  socket: Socket,
  req: StreamRequest,
  pool: BufferPool,
  fail: (err: Error) => void,
  forward: { proxy: ProxyEndpoint; address: string | undefined } | undefined,
): void {
  // To a proxy (plain-http target): the absolute form, RFC 9112 §3.2.2; the proxy consumes Proxy-Authorization.
  const proxy = forward?.proxy;
  const target =
    forward === undefined ? `${req.url.pathname}${req.url.search}` : absoluteForm(req.url, forward.address);
  const lines = [`${req.method} ${target} HTTP/1.1`, `host: ${req.url.host}`, 'connection: close'];
  if (proxy?.authorization !== undefined) lines.push(`proxy-authorization: ${proxy.authorization}`);
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'host' || name === 'connection' || name === 'proxy-authorization') continue;
    if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return fail(new Error(`header ${name} has a line break`));
    lines.push(`${name}: ${value}`);
  }
  socket.write(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const { body } = req;
  if (body === null) return;
  const expected = Number(req.headers['content-length']);
  let sent = 0;
  body.on('data', (chunk: Buffer) => {
    sent += chunk.length;
    if (socket.destroyed) return;
    if (!socket.write(chunk, () => pool.give(chunk))) body.pause();
  });
  socket.on('drain', () => body.resume());
  body.once('end', () => {
    if (sent !== expected) socket.destroy(new Error(`request body was ${sent} bytes; content-length said ${expected}`));
  });
  body.once('error', (err) => socket.destroy(err));
  socket.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}

function framingOf(method: string, status: number, headers: Record<string, string | string[]>): Framing {
  if (method === 'HEAD' || status === 204 || status === 304) return { kind: 'none' };
  const encoding = headers['transfer-encoding'];
  if (encoding !== undefined && String(encoding).toLowerCase().includes('chunked'))
    return { kind: 'chunked', decoder: new ChunkedDecoder() };
  const length = headers['content-length'];
  if (length !== undefined) {
    const value = Number(Array.isArray(length) ? length[0] : length);
    if (!Number.isSafeInteger(value) || value < 0) return { kind: 'until-close' };
    return { kind: 'length', remaining: value };
  }
  return { kind: 'until-close' };
}
