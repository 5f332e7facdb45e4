// Drives Ferry's Transport (from dist/) under the deployed service's SSRF guard through a
// recording proxy that runs as its own process (started by test/security/proxy.test.ts, with a
// hosts file of its own), inside a network namespace. Ferry's hosts file here names
// allowed.ferry.test and rebind.ferry.test 127.0.0.1 and internal.ferry.test 127.0.0.3; the
// proxy's names rebind.ferry.test 127.0.0.2, where a second pair of targets records anything that
// arrives. Prints one JSON object: each scenario's outcome, what the proxy was asked for (its
// record file), what the targets received (and on which address). Plain JavaScript:
//
//   node proxy-driver.mjs CA_FILE CERT_FILE KEY_FILE PROXY_URL PROXY_RECORD_FILE
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import process from 'node:process';
import { Readable } from 'node:stream';
import { URL } from 'node:url';
import { NetworkGuard } from '../../dist/functions/oci/network-guard.js';
import { Transport } from '../../dist/functions/oci/transport.js';

const [caFile, certFile, keyFile, proxyUrl, proxyRecordFile] = process.argv.slice(2);
const big = Buffer.alloc(2 << 20, 0x5a);
const seenByTargets = [];

/** A target that records every request's method, path, headers and the address it arrived at. */
const handler = (req, res) => {
  let received = 0;
  req.on('data', (chunk) => (received += chunk.length));
  req.on('end', () => {
    seenByTargets.push({
      method: req.method,
      url: req.url,
      host: req.headers.host,
      address: req.socket.localAddress,
      headers: Object.keys(req.headers),
      authorization: req.headers.authorization,
    });
    if (req.method === 'PUT') {
      res.writeHead(201, { 'content-length': '0', 'x-received': String(received) });
      return res.end();
    }
    const body = req.url === '/big' ? big : Buffer.from('ok');
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
};
// The checked address (127.0.0.1) and the one the proxy's own resolver gives rebind.ferry.test
// (127.0.0.2), each with a TLS target (certificate for both names) on 443 and a plain one on 80.
const servers = [];
for (const address of ['127.0.0.1', '127.0.0.2']) {
  const tls = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler);
  const plain = createHttpServer(handler);
  await new Promise((resolve) => tls.listen(443, address, resolve));
  await new Promise((resolve) => plain.listen(80, address, resolve));
  servers.push(tls, plain);
}

// The deployed service's guard: loopback is refused (the proxy on 127.0.0.4 included, were it
// checked) but for 127.0.0.1 and the name allowed.ferry.test.
const transport = new Transport({
  guard: new NetworkGuard(['allowed.ferry.test', '127.0.0.1/32']),
  ca: readFileSync(caFile),
  proxy: { httpsProxy: proxyUrl, httpProxy: proxyUrl },
  retry: { attempts: 1 },
});

async function attempt(name, req) {
  try {
    const res = await transport.send(req);
    let bytes = 0;
    for await (const chunk of res.body) bytes += chunk.length;
    return { name, status: res.status, bytes, received: res.headers['x-received'] };
  } catch (err) {
    return { name, error: err.message, errorName: err.name, retryable: err.retryable };
  }
}

const authorization = 'Bearer registry-token';
const get = (url, extra = {}) => ({ method: 'GET', url: new URL(url), headers: { authorization }, ...extra });
const results = [
  await attempt('https-undici', get('https://allowed.ferry.test/small')),
  await attempt('https-stream', get('https://allowed.ferry.test/big', { streamBytes: big.length })),
  await attempt('https-stream-upload', {
    method: 'PUT',
    url: new URL('https://allowed.ferry.test/upload'),
    headers: { authorization, 'content-length': String(big.length) },
    body: Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]),
  }),
  await attempt('http-undici', get('http://allowed.ferry.test/small')),
  await attempt('http-stream', get('http://allowed.ferry.test/big', { streamBytes: big.length })),
  await attempt('rebind-https-undici', get('https://rebind.ferry.test/small')),
  await attempt('rebind-https-stream', get('https://rebind.ferry.test/big', { streamBytes: big.length })),
  await attempt('rebind-http-undici', get('http://rebind.ferry.test/small')),
  await attempt('rebind-http-stream', get('http://rebind.ferry.test/big', { streamBytes: big.length })),
  await attempt('guard-name-undici', { method: 'GET', url: new URL('https://internal.ferry.test/small') }),
  await attempt('guard-name-stream', {
    method: 'GET',
    url: new URL('https://internal.ferry.test/big'),
    streamBytes: big.length,
  }),
  await attempt('guard-literal-undici', { method: 'GET', url: new URL('http://169.254.169.254/small') }),
  await attempt('guard-literal-stream', {
    method: 'GET',
    url: new URL('http://10.0.0.1/big'),
    streamBytes: big.length,
  }),
  await attempt('unresolved-undici', { method: 'GET', url: new URL('https://nowhere.ferry.test/small') }),
  await attempt('unresolved-stream', {
    method: 'GET',
    url: new URL('http://nowhere.ferry.test/big'),
    streamBytes: big.length,
  }),
];
await transport.close();
for (const server of servers) server.close();
// The proxy appends each record before it answers: every request above is in the file.
const proxyRecords = readFileSync(proxyRecordFile, 'utf8')
  .split('\n')
  .filter((line) => line !== '')
  .map((line) => JSON.parse(line));
process.stdout.write(`${JSON.stringify({ results, proxyRecords, seenByTargets })}\n`);
process.exit(0);
