import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';

/** A scripted peer on loopback: what it saw, and the connections clients opened to it. */
export interface Peer {
  /** `127.0.0.1:PORT` or `[::1]:PORT`. */
  readonly host: string;
  readonly port: number;
  /** Requests seen (`METHOD /path?query`). */
  readonly requests: string[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Accepted connections not closed yet. */
  open(): number;
  close(): Promise<void>;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function track(server: NetServer): { connections: () => number; open: () => number; sockets: Set<Socket> } {
  let accepted = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  return { connections: () => accepted, open: () => sockets.size, sockets };
}

async function listen(server: NetServer, address: string): Promise<number> {
  server.listen(0, address);
  await once(server, 'listening');
  const bound = server.address();
  return typeof bound === 'object' && bound !== null ? bound.port : 0;
}

/**
 * An HTTP (or, with `tls`, HTTPS) server on a loopback address (`127.0.0.1` or `::1`) that answers
 * every request with `handle`: a registry, token server or storage host as a test scripts it.
 */
export async function scriptedHttp(
  address: '127.0.0.1' | '::1',
  handle: Handler,
  tls?: { key: Buffer; cert: Buffer },
): Promise<Peer> {
  const requests: string[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    requests.push(`${req.method ?? 'GET'} ${req.url ?? '/'}`);
    handle(req, res);
  };
  const server: Server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert }, onRequest)
    : createHttpServer(onRequest);
  const counts = track(server);
  const port = await listen(server, address);
  return {
    host: address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`,
    port,
    requests,
    ...counts,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A TCP server on 127.0.0.1 that only counts the connections made to it (and drops them): a refused request must make none. */
export async function countingTarget(): Promise<Peer> {
  const server = createNetServer((socket) => socket.destroy());
  const counts = track(server);
  const port = await listen(server, '127.0.0.1');
  return {
    host: `127.0.0.1:${port}`,
    port,
    requests: [],
    connections: counts.connections,
    open: counts.open,
    close: async () => {
      for (const socket of counts.sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Answers with a body that never ends (a huge Content-Length, bytes as fast as the client takes
 * them) until the client closes the connection; `abandoned` resolves then. A client that drains
 * such a body spins for ever; one that caps it closes the connection.
 */
export function endlessBody(res: ServerResponse, status: number, headers: Record<string, string> = {}): Promise<void> {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(2 ** 50), ...headers });
  const chunk = Buffer.alloc(64 * 1024, '{"errors":[');
  const pump = (): void => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on('drain', pump);
  pump();
  return new Promise((resolve) => res.once('close', () => resolve()));
}
