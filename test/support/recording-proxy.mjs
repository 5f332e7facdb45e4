// A forward proxy for tests that records what it is asked for: CONNECT targets (tunnelled when
// mapped to a local address, else 502) and absolute-form requests (forwarded when mapped, else
// 502). It never resolves a name and never dials anything but the local addresses it is given.
// Plain JavaScript: it runs with `node` inside a network namespace (no build step).
//
//   node recording-proxy.mjs PORT RECORD_FILE [AUTHORITY=127.0.0.1:PORT ...]
import { appendFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import process from 'node:process';
import { pathToFileURL, URL } from 'node:url';

/**
 * @param {{ port: number, map: Record<string, string>, onRecord: (record: object) => void }} options
 * @returns {Promise<import('node:http').Server>}
 */
export function startRecordingProxy({ port, map, onRecord }) {
  const server = createServer((req, res) => {
    let url;
    try {
      url = new URL(req.url ?? '');
    } catch {
      url = undefined;
    }
    onRecord({ kind: 'request', method: req.method, url: req.url, host: req.headers.host, proxyAuthorization: req.headers['proxy-authorization'] });
    const to = url && map[url.host];
    if (!to) {
      res.writeHead(502, { 'content-length': '0' });
      return res.end();
    }
    const [host, toPort] = to.split(':');
    const { 'proxy-authorization': _auth, 'proxy-connection': _pc, ...headers } = req.headers;
    const upstream = request({ host, port: Number(toPort), method: req.method, path: `${url.pathname}${url.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connect', (req, socket, head) => {
    onRecord({ kind: 'connect', target: req.url, proxyAuthorization: req.headers['proxy-authorization'], authorization: req.headers.authorization });
    socket.on('error', () => undefined);
    const to = map[req.url ?? ''];
    if (!to) return void socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
    const [host, toPort] = to.split(':');
    const upstream = connect(Number(toPort), host, () => {
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('close', () => upstream.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [port, file, ...pairs] = process.argv.slice(2);
  const map = Object.fromEntries(pairs.map((pair) => pair.split('=')));
  await startRecordingProxy({ port: Number(port), map, onRecord: (record) => appendFileSync(file, `${JSON.stringify(record)}\n`) });
}
