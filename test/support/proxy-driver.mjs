// Drives Ferry's Transport (from dist/) through a recording proxy, inside a network namespace
// whose /etc/hosts names allowed.ferry.test and internal.ferry.test (both 127.0.0.1). Prints one
// JSON object: each scenario's outcome, what the proxy was asked for, what the targets received.
// Plain JavaScript, run by test/security/proxy.test.ts:
//
//   node proxy-driver.mjs CA_FILE CERT_FILE KEY_FILE
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import process from 'node:process';
import { Readable } from 'node:stream';
import { URL } from 'node:url';
import { NetworkGuard } from '../../dist/functions/oci/network-guard.js';
import { Transport } from '../../dist/functions/oci/transport.js';
import { startRecordingProxy } from './recording-proxy.mjs';

const [caFile, certFile, keyFile] = process.argv.slice(2);
const big = Buffer.alloc(2 << 20, 0x5a);
const seenByTargets = [];

/** A target that records every request's method, path and headers. */
const handler = (req, res) => {
  let received = 0;
  req.on('data', (chunk) => (received += chunk.length));
  req.on('end', () => {
    seenByTargets.push({ method: req.method, url: req.url, host: req.headers.host, headers: Object.keys(req.headers), authorization: req.headers.authorization });
    if (req.method === 'PUT') {
      res.writeHead(201, { 'content-length': '0', 'x-received': String(received) });
      return res.end();
    }
    const body = req.url === '/big' ? big : Buffer.from('ok');
    res.writeHead(200, { 'content-length': String(body.length) });
    res.end(body);
  });
};
const tlsTarget = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handler);
const plainTarget = createHttpServer(handler);
await new Promise((resolve) => tlsTarget.listen(8443, '127.0.0.1', resolve));
await new Promise((resolve) => plainTarget.listen(8080, '127.0.0.1', resolve));
const proxyRecords = [];
const proxy = await startRecordingProxy({
  port: 3128,
  map: { 'allowed.ferry.test:443': '127.0.0.1:8443', 'allowed.ferry.test': '127.0.0.1:8080' },
  onRecord: (record) => proxyRecords.push(record),
});

// The deployed service's guard: loopback is refused (the proxy on 127.0.0.1 included, were it
// checked), allowed.ferry.test is allow-listed by name.
const transport = new Transport({
  guard: new NetworkGuard(['allowed.ferry.test']),
  ca: readFileSync(caFile),
  proxy: { httpsProxy: 'http://ferry:s3cret@127.0.0.1:3128', httpProxy: 'http://ferry:s3cret@127.0.0.1:3128' },
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
const results = [
  await attempt('https-undici', { method: 'GET', url: new URL('https://allowed.ferry.test/small'), headers: { authorization } }),
  await attempt('https-stream', { method: 'GET', url: new URL('https://allowed.ferry.test/big'), headers: { authorization }, streamBytes: big.length }),
  await attempt('https-stream-upload', {
    method: 'PUT', url: new URL('https://allowed.ferry.test/upload'), headers: { authorization, 'content-length': String(big.length) }, body: Readable.from([big.subarray(0, 1 << 20), big.subarray(1 << 20)]),
  }),
  await attempt('http-undici', { method: 'GET', url: new URL('http://allowed.ferry.test/small'), headers: { authorization } }),
  await attempt('http-stream', { method: 'GET', url: new URL('http://allowed.ferry.test/big'), headers: { authorization }, streamBytes: big.length }),
  await attempt('guard-name-undici', { method: 'GET', url: new URL('https://internal.ferry.test/small') }),
  await attempt('guard-name-stream', { method: 'GET', url: new URL('https://internal.ferry.test/big'), streamBytes: big.length }),
  await attempt('guard-literal-undici', { method: 'GET', url: new URL('http://169.254.169.254/small') }),
  await attempt('guard-literal-stream', { method: 'GET', url: new URL('http://10.0.0.1/big'), streamBytes: big.length }),
];
await transport.close();
proxy.close();
tlsTarget.close();
plainTarget.close();
process.stdout.write(`${JSON.stringify({ results, proxyRecords, seenByTargets })}\n`);
process.exit(0);
