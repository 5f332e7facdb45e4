import {
  createServer,
  type IncomingMessage,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

/** What to do with one request. */
export type Fault =
  | { kind: 'respond'; status: number; headers?: Record<string, string>; body?: string }
  /** Forward, then break the response off after `bytes` body bytes (connection reset). */
  | { kind: 'reset'; bytes: number }
  /** Forward, but end the body cleanly (chunked) after `bytes`: a truncated body. */
  | { kind: 'truncate'; bytes: number }
  /** Forward with one body byte flipped. */
  | { kind: 'corrupt'; at: number }
  /** Forward once `until` settles (a request held in flight, for cancel and progress tests). */
  | { kind: 'hold'; until: Promise<void> }
  /** Forward and change the response: status, Location. */
  | { kind: 'rewrite'; status?: number; location?: (location: string) => string; headers?: Record<string, string> };

export interface FaultProxy {
  readonly host: string;
  readonly url: string;
  readonly seen: SeenRequest[];
  /** TCP connections clients opened to the proxy so far. */
  readonly connections: () => number;
  stop(): Promise<void>;
}

/**
 * A fault-injecting HTTP proxy in front of a real registry: the registry does the protocol,
 * the proxy injects what a real registry will not produce on demand (429s, resets, truncation,
 * corruption, ECR's 201 on PATCH, cross-host Locations and redirects).
 */
export async function startFaultProxy(
  upstream: string,
  decide: (req: SeenRequest, count: number) => Fault | undefined = () => undefined,
  /** `bytesPerSecond`: every response body paced to this rate (as a CDN caps one connection). */
  options: { readonly bytesPerSecond?: number } = {},
): Promise<FaultProxy> {
  const seen: SeenRequest[] = [];
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const entry: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
    seen.push(entry);
    const fault = decide(entry, seen.length);
    if (fault?.kind === 'respond') {
      req.resume();
      res.writeHead(fault.status, fault.headers).end(fault.body ?? '');
      return;
    }
    if (fault?.kind === 'hold') {
      void fault.until.then(() => forward(req, res, target, undefined, options.bytesPerSecond));
      return;
    }
    forward(req, res, target, fault, options.bytesPerSecond);
  });
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    seen,
    connections: () => connections,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  target: URL,
  fault: Fault | undefined,
  bytesPerSecond?: number,
): void {
  // The Host header stays the proxy's, so the registry's Locations point back through the proxy.
  const headers = { ...req.headers };
  const upstream = httpRequest(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (up) => {
      // Hop-by-hop headers stay on their hop: the client's connection to the proxy is kept alive on its own terms.
      const { connection: _connection, 'keep-alive': _keepAlive, ...outHeaders } = up.headers;
      let status = up.statusCode ?? 502;
      if (fault?.kind === 'rewrite') {
        if (fault.status !== undefined) status = fault.status;
        if (fault.location && typeof outHeaders.location === 'string')
          outHeaders.location = fault.location(outHeaders.location);
        Object.assign(outHeaders, fault.headers);
      }
      if (fault?.kind === 'truncate') delete outHeaders['content-length'];
      res.writeHead(status, outHeaders);
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (fault?.kind === 'reset' && sent + chunk.length >= fault.bytes) {
          res.write(chunk.subarray(0, fault.bytes - sent));
          res.socket?.destroy();
          up.destroy();
          return;
        }
        if (fault?.kind === 'truncate' && sent + chunk.length >= fault.bytes) {
          res.end(chunk.subarray(0, fault.bytes - sent));
          up.destroy();
          return;
        }
        let out = chunk;
        if (fault?.kind === 'corrupt' && fault.at >= sent && fault.at < sent + chunk.length) {
          out = Buffer.from(chunk);
          out[fault.at - sent] = out[fault.at - sent]! ^ 0xff;
        }
        sent += chunk.length;
        res.write(out);
        if (bytesPerSecond !== undefined) {
          // Paced: the next chunk is read only once this one's share of the rate has passed.
          up.pause();
          setTimeout(() => up.resume(), (out.length / bytesPerSecond) * 1000);
        }
      });
      up.on('end', () => {
        if (!res.writableEnded) res.end();
      });
    },
  );
  upstream.on('error', () => res.socket?.destroy());
  req.pipe(upstream);
}
