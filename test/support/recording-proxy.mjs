// A forward proxy for tests that records what it is asked for: CONNECT targets (tunnelled) and
// absolute-form requests (forwarded). A target in `map` goes to the local address given there;
// any other gets 502 — or, with `dial`, is dialled as asked, a name resolved by this process's
// own resolver (so a hosts file of its own can send a name elsewhere than the client's does).
// Run it with `dial` only inside a loopback-only network namespace: nothing else is reachable.
// Plain JavaScript: it runs with `node` inside a network namespace (no build step).
//
//   node recording-proxy.mjs PORT RECORD_FILE [--listen ADDRESS] [--dial] [AUTHORITY=127.0.0.1:PORT ...]
import { appendFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import process from 'node:process';
import { pathToFileURL, URL } from 'node:url';

/** `host:port` or `[v6]:port` → { host, port }. */
function splitAuthority(authority, defaultPort) {
  const match = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d+))?$/.exec(authority);
  return match ? { host: match[1] ?? match[2], port: Number(match[3] ?? defaultPort) } : undefined;
}

/**
 * @param {{ port: number, host?: string, map?: Record<string, string>, dial?: boolean, onRecord: (record: object) => void }} options
 * @returns {Promise<import('node:http').Server>}
 */
export function startRecordingProxy({ port, host = '127.0.0.1', map = {}, dial = false, onRecord }) {
  /** Where a target authority goes, or undefined for 502. */
  const destination = (authority, defaultPort) => {
    if (map[authority]) return splitAuthority(map[authority], defaultPort);
    return dial ? splitAuthority(authority, defaultPort) : undefined;
  };
  const server = createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = undefined;
    }
    onRecord({
      kind: 'request',
      method: req.method,
      url: req.url,
      host: req.headers.host,
      proxyAuthorization: req.headers['proxy-authorization'],
    });
    const to = url && destination(url.host, 80);
    if (!to) {
      res.writeHead(502, { 'content-length': '0' });
      return res.end();
    }
    const { 'proxy-authorization': _auth, 'proxy-connection': _pc, ...headers } = req.headers;
    const upstream = request(
      { host: to.host, port: to.port, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    onRecord({
      kind: 'connect',
      target: req.url,
      proxyAuthorization: req.headers['proxy-authorization'],
      authorization: req.headers.authorization,
    });
    socket.on('error', () => undefined);
    const to = destination(req.url ?? '', 443);
    if (!to) return void socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    let connected = false;
    const upstream = connect(to.port, to.host, () => {
      connected = true;
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () =>
      connected ? socket.destroy() : socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'),
    );
    socket.on('close', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [port, file, ...rest] = process.argv.slice(2);
  let host;
  let dial = false;
  const pairs = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--listen') host = rest[++i];
    else if (rest[i] === '--dial') dial = true;
    else pairs.push(rest[i]);
  }
  const map = Object.fromEntries(pairs.map((pair) => pair.split('=')));
  await startRecordingProxy({
    port: Number(port),
    host,
    map,
    dial,
    onRecord: (record) => appendFileSync(file, `${JSON.stringify(record)}\n`),
  });
}
