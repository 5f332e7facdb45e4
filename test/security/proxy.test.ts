import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyUrl } from '../../functions/oci/proxy.js';
import { openTunnel } from '../../functions/oci/proxy-tunnel.js';
import { cleanEnv, repoRoot } from '../support/cli.js';
import { buildImage, Rng, writeLayout } from '../support/fixtures.js';
import { type Namespace, readLog, startNamespace, startNamespaceRegistry } from '../support/netns.js';
import { makeCertificates } from '../support/tls-certs.js';

const ferryBin = join(repoRoot, 'bin', 'ferry.js');
const driver = join(repoRoot, 'test', 'support', 'proxy-driver.mjs');

const recordingProxy = join(repoRoot, 'test', 'support', 'recording-proxy.mjs');

interface DriverOutput {
  results: {
    name: string;
    status?: number;
    bytes?: number;
    received?: string;
    error?: string;
    errorName?: string;
    retryable?: boolean;
  }[];
  proxyRecords: {
    kind: string;
    target?: string;
    url?: string;
    host?: string;
    proxyAuthorization?: string;
    authorization?: string;
  }[];
  seenByTargets: {
    method: string;
    url: string;
    host: string;
    address: string;
    headers: string[];
    authorization?: string;
  }[];
}

/** A command run with its own /etc/hosts, and /etc/nsswitch.conf resolving from files only (an unknown name: ENOTFOUND at once). */
function withOwnHosts(dir: string, name: string, hosts: string, command: string): string[] {
  const hostsFile = join(dir, `${name}.hosts`);
  const nsswitch = join(dir, `${name}.nsswitch.conf`);
  writeFileSync(hostsFile, hosts);
  writeFileSync(nsswitch, `${readFileSync('/etc/nsswitch.conf', 'utf8').replace(/^hosts:.*$/m, '')}\nhosts: files\n`);
  return [
    '-m',
    '--propagation',
    'private',
    'sh',
    '-c',
    `mount --bind ${hostsFile} /etc/hosts && mount --bind ${nsswitch} /etc/nsswitch.conf && exec ${command}`,
  ];
}

// The transport itself, both paths (undici and the pooled blob exchange), under the deployed
// service's SSRF guard, against a recording proxy that dials what it is asked for and resolves
// names with a hosts file of its own — in which rebind.ferry.test is 127.0.0.2, where Ferry's says
// 127.0.0.1 (the only address the guard allows, besides the name allowed.ferry.test): DNS
// rebinding, or a proxy whose DNS differs from the Lambda's. Under the guard the proxy must be
// sent the checked address, never the name, so it has nothing left to resolve.
describe('Transport through a proxy, with the SSRF guard (network namespace)', () => {
  let output: DriverOutput;
  beforeAll(async () => {
    const ns = await startNamespace();
    try {
      const certs = makeCertificates({ dir: ns.dir, names: ['allowed.ferry.test', 'rebind.ferry.test'] });
      const records = join(ns.dir, 'proxy.jsonl');
      ns.spawn(
        'unshare',
        withOwnHosts(
          ns.dir,
          'proxy',
          '127.0.0.1 localhost allowed.ferry.test\n127.0.0.2 rebind.ferry.test internal.ferry.test\n',
          `${process.execPath} ${recordingProxy} 3128 ${records} --listen 127.0.0.4 --dial`,
        ),
        { log: 'proxy.log' },
      );
      await ns.waitForPort(3128, '127.0.0.4');
      const run = await ns.run(
        'unshare',
        withOwnHosts(
          ns.dir,
          'ferry',
          '127.0.0.1 localhost allowed.ferry.test rebind.ferry.test\n127.0.0.3 internal.ferry.test\n',
          `${process.execPath} ${driver} ${certs.caFile} ${certs.certFile} ${certs.keyFile} http://ferry:s3cret@127.0.0.4:3128 ${records}`,
        ),
      );
      expect(run.stderr).toBe('');
      output = JSON.parse(run.stdout) as DriverOutput;
    } finally {
      await ns.close();
    }
  });
  const result = (name: string): DriverOutput['results'][number] | undefined =>
    output.results.find((r) => r.name === name);
  const basic = `Basic ${Buffer.from('ferry:s3cret').toString('base64')}`;

  it('asks the proxy for checked addresses only, never a name (CONNECT 127.0.0.1:443, http://127.0.0.1:80/…)', () => {
    const asked = output.proxyRecords.map((r) => r.target ?? r.url ?? '');
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.filter((t) => !/^(?:127\.0\.0\.1:443|http:\/\/127\.0\.0\.1:80\/\S*)$/.test(t))).toEqual([]);
  });

  it.each([
    ['https-undici', 2],
    ['https-stream', 2 << 20],
  ])(
    '%s: tunnels https with CONNECT to the checked address, TLS verified against the name, Proxy-Authorization to the proxy only, Authorization to the target only',
    (name, bytes) => {
      expect(result(name)).toMatchObject({ status: 200, bytes });
      const path = name === 'https-undici' ? '/small' : '/big';
      const seen = output.seenByTargets.find(
        (r) => r.url === path && r.method === 'GET' && r.host === 'allowed.ferry.test',
      );
      expect(seen).toMatchObject({ address: '127.0.0.1', authorization: 'Bearer registry-token' });
      expect(seen?.headers).not.toContain('proxy-authorization');
      const connects = output.proxyRecords.filter((r) => r.kind === 'connect');
      expect(connects.map((r) => r.target)).toContain('127.0.0.1:443');
      for (const connect of connects) {
        expect(connect.proxyAuthorization).toBe(basic);
        expect(connect.authorization).toBeUndefined();
      }
    },
  );

  it('streams an upload through the tunnel', () => {
    expect(result('https-stream-upload')).toMatchObject({ status: 201, received: String(2 << 20) });
  });

  it.each([
    ['http-undici', '/small', 2],
    ['http-stream', '/big', 2 << 20],
  ])(
    "%s: sends plain-http requests in absolute form naming the checked address, Host naming the registry, with the proxy's credentials",
    (name, path, bytes) => {
      expect(result(name)).toMatchObject({ status: 200, bytes });
      const asked = output.proxyRecords.filter(
        (r) => r.kind === 'request' && r.url === `http://127.0.0.1:80${path}` && r.host === 'allowed.ferry.test',
      );
      expect(asked).toHaveLength(1);
      expect(asked[0]?.proxyAuthorization).toBe(basic);
    },
  );

  it.each([['rebind-https-undici'], ['rebind-https-stream'], ['rebind-http-undici'], ['rebind-http-stream']])(
    '%s: a name the proxy resolves elsewhere reaches only the address Ferry checked',
    (name) => {
      expect(result(name)).toMatchObject({ status: 200 });
      const seen = output.seenByTargets.filter((r) => r.host === 'rebind.ferry.test');
      expect(seen.map((r) => r.address)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    },
  );

  it("nothing ever reached the address only the proxy's resolver gives", () => {
    expect(output.seenByTargets.filter((r) => r.address !== '127.0.0.1')).toEqual([]);
  });

  it.each([['guard-name-undici'], ['guard-name-stream'], ['guard-literal-undici'], ['guard-literal-stream']])(
    '%s: the guard refuses the target before the proxy is asked',
    (name) => {
      expect(result(name)).toMatchObject({ errorName: 'TransportError', retryable: false });
      expect(result(name)?.error).toMatch(/refused|loopback, link-local or private/);
    },
  );

  it.each([['unresolved-undici'], ['unresolved-stream']])(
    '%s: a name that does not resolve here fails at once, not retryable, saying the service resolves names itself',
    (name) => {
      expect(result(name)).toMatchObject({ errorName: 'TransportError', retryable: false });
      expect(result(name)?.error).toMatch(
        /nowhere\.ferry\.test does not resolve here: the deployed service resolves registry names itself before asking the proxy .*needs DNS/,
      );
    },
  );

  it('never asked the proxy for a refused or unresolved target, and used the loopback proxy the guard would refuse', () => {
    const asked = output.proxyRecords.map((r) => `${r.target ?? r.url ?? ''} ${r.host ?? ''}`);
    expect(asked.filter((t) => /internal\.ferry\.test|nowhere|127\.0\.0\.3|169\.254|10\.0\.0\.1/.test(t))).toEqual([]);
    expect(asked.length).toBeGreaterThan(0);
  });
});

// A full copy through a real forward proxy (Debian's tinyproxy) to registries whose names only
// the proxy can resolve: everything runs in a loopback-only network namespace, and tinyproxy
// alone sees a hosts file (its own mount namespace) naming registry-{a,b,c}.ferry.test. Ferry
// cannot resolve those names, so every byte it moves went through the proxy.
describe('ferry copy through HTTP_PROXY / HTTPS_PROXY (tinyproxy, network namespace)', () => {
  let ns: Namespace;
  let caFile: string;
  let digest: string;
  let bigLayer: string;
  const ports = { a: 5001, b: 5002, c: 5443, proxy: 3128 };
  const a = `registry-a.ferry.test:${ports.a}`;
  const b = `registry-b.ferry.test:${ports.b}`;
  const c = `registry-c.ferry.test:${ports.c}`;
  const proxyUrl = `http://ferry:s3cret@127.0.0.1:${ports.proxy}`;
  const proxied = (extra: Record<string, string> = {}): NodeJS.ProcessEnv =>
    cleanEnv({ HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ...extra });
  const ferry = (args: string[], env: NodeJS.ProcessEnv): ReturnType<Namespace['run']> =>
    ns.run(process.execPath, [ferryBin, ...args], { env });
  const digestIn = async (host: string, name: string): Promise<string> => {
    const inspected = await ns.run('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${host}/${name}`], {
      env: cleanEnv(),
    });
    expect(inspected.stderr).toBe('');
    return `sha256:${createHash('sha256').update(inspected.stdout).digest('hex')}`;
  };

  beforeAll(async () => {
    ns = await startNamespace();
    const certs = makeCertificates({ dir: ns.dir, names: ['registry-c.ferry.test'] });
    caFile = certs.caFile;
    const hosts = join(ns.dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost registry-a.ferry.test registry-b.ferry.test registry-c.ferry.test\n');
    const config = join(ns.dir, 'tinyproxy.conf');
    writeFileSync(
      config,
      [
        'User nobody',
        'Group nogroup',
        `Port ${ports.proxy}`,
        'Listen 127.0.0.1',
        'Timeout 120',
        'LogLevel Info',
        'MaxClients 100',
        'Allow 127.0.0.1',
        `ConnectPort ${ports.c}`,
        'BasicAuth ferry s3cret',
        'DisableViaHeader Yes',
        '',
      ].join('\n'),
    );
    await startNamespaceRegistry(ns, 'a', ports.a);
    await startNamespaceRegistry(ns, 'b', ports.b);
    await startNamespaceRegistry(ns, 'c', ports.c, certs);
    ns.spawn(
      'unshare',
      [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount --bind ${hosts} /etc/hosts && exec tinyproxy -d -c ${config}`,
      ],
      { log: 'tinyproxy.log' },
    );
    await ns.waitForPort(ports.proxy);

    const rng = new Rng(Number(process.env.FERRY_TEST_SEED ?? 9));
    // Two layers over the stream threshold (the pooled exchange), one small layer and the config (undici).
    const image = buildImage({ layers: [rng.bytes(2 << 20), rng.bytes((1 << 20) + 12345), rng.bytes(700)] });
    digest = image.digest;
    bigLayer = image.blobs.find((blob) => blob.size === 2 << 20)!.digest;
    await writeLayout(join(ns.dir, 'layout'), 'v1', image);
    const seeded = await ferry(
      ['copy', `oci:${join(ns.dir, 'layout')}:v1`, `127.0.0.1:${ports.a}/fixture:v1`],
      cleanEnv(),
    );
    expect(seeded.stderr).toBe('');
    expect(seeded.code).toBe(0);
  });
  afterAll(async () => {
    await ns?.close();
  });

  it('cannot resolve the registry names itself (only the proxy can)', async () => {
    const looked = await ns.run(process.execPath, [
      '-e',
      "require('dns').lookup('registry-a.ferry.test', (e) => { console.log(e ? e.code : 'resolved'); })",
    ]);
    expect(looked.stdout.trim()).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });

  it('copies between plain-HTTP registries as absolute-form requests through the proxy', async () => {
    const result = await ferry(
      ['copy', `${a}/fixture:v1`, `${b}/copy:v1`, '--insecure', a, '--insecure', b, '--json'],
      proxied(),
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ digest, status: 'copied', blobs: { copied: 4 } });
    expect(await digestIn(`127.0.0.1:${ports.b}`, 'copy:v1')).toBe(digest);
    const log = readLog(ns, 'tinyproxy.log');
    expect(log).toContain(`GET http://${a}/v2/fixture/blobs/${bigLayer} HTTP/1.1`);
    expect(log).toMatch(new RegExp(`PUT http://${b}/v2/copy/blobs/uploads/\\S+digest=${bigLayer.replace(':', '%3A')}`));
    expect(log).toContain(`PUT http://${b}/v2/copy/manifests/v1 HTTP/1.1`);
  });

  it('copies to and from a TLS registry through CONNECT tunnels, verifying its certificate', async () => {
    const pushed = await ferry(
      ['copy', `${a}/fixture:v1`, `${c}/copy:v1`, '--insecure', a, '--ca-file', caFile, '--json'],
      proxied(),
    );
    expect(pushed.stderr).toBe('');
    expect(pushed.code).toBe(0);
    expect(JSON.parse(pushed.stdout)).toMatchObject({ digest, status: 'copied', blobs: { copied: 4 } });
    expect(await digestIn(`127.0.0.1:${ports.c}`, 'copy:v1')).toBe(digest);
    expect(readLog(ns, 'tinyproxy.log')).toContain(`CONNECT ${c} HTTP/1.1`);
    // And back out of it: the large blobs' GETs stream through the tunnel too.
    const pulled = await ferry(
      ['copy', `${c}/copy:v1`, `${b}/from-tls:v1`, '--insecure', b, '--ca-file', caFile, '--json'],
      proxied(),
    );
    expect(pulled.stderr).toBe('');
    expect(JSON.parse(pulled.stdout)).toMatchObject({ digest, status: 'copied', blobs: { copied: 4 } });
    expect(await digestIn(`127.0.0.1:${ports.b}`, 'from-tls:v1')).toBe(digest);
  });

  it('ferry serve copies through the proxy too (its composition root reads the same variables)', async () => {
    ns.spawn(process.execPath, [ferryBin, 'serve', '--port', '8080', '--insecure', a], {
      env: proxied(),
      log: 'serve.log',
    });
    await ns.waitForPort(8080);
    // A client inside the namespace: start a run, then poll it (bounded) until it is over.
    const client = `
      const base = 'http://127.0.0.1:8080';
      const body = JSON.stringify({ images: ['${a}/fixture:v1'], destination: { registry: '${b}', prefix: 'served', insecure: true } });
      (async () => {
        const started = await fetch(base + '/v1/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const { runId } = await started.json();
        for (let i = 0; i < 1200; i++) {
          const run = await (await fetch(base + '/v1/runs/' + runId)).json();
          if (run.status !== 'in-progress') return console.log(JSON.stringify(run));
          await new Promise((r) => setTimeout(r, 50));
        }
        console.log('{}');
      })();`;
    const result = await ns.run(process.execPath, ['-e', client], { env: cleanEnv() });
    const run = JSON.parse(result.stdout) as {
      status?: string;
      images?: Record<string, { status: string; message?: string; digest?: string }>;
    };
    expect(run.images?.[`${b}/served/fixture:v1`]).toMatchObject({ status: 'completed', digest });
    expect(run.status).toBe('completed');
    expect(await digestIn(`127.0.0.1:${ports.b}`, 'served/fixture:v1')).toBe(digest);
  });

  it('goes direct for a NO_PROXY host, and then fails in one line: the name does not resolve here', async () => {
    const result = await ferry(
      ['copy', `${a}/fixture:v1`, `${b}/direct:v1`, '--insecure', a, '--insecure', b],
      proxied({ NO_PROXY: '.ferry.test' }),
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/registry-a\.ferry\.test.*(ENOTFOUND|EAI_AGAIN)/);
    expect(readLog(ns, 'tinyproxy.log')).not.toContain('/v2/direct/');
  });

  it('fails in one line when the proxy wants credentials the URL does not carry (HTTP 407)', async () => {
    const result = await ferry(
      ['copy', `${a}/fixture:v1`, `${c}/noauth:v1`, '--insecure', a, '--ca-file', caFile],
      proxied({ HTTPS_PROXY: `http://127.0.0.1:${ports.proxy}` }),
    );
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/registry-c\.ferry\.test.*407.*proxy authentication required/);
  });
});

// openTunnel against scripted proxies on loopback: only the proxy address is ever dialled (the
// target name is text in the CONNECT line), so these need no namespace.
describe('CONNECT tunnel answers', () => {
  const withProxy = async (
    answer: string | undefined,
    test: (proxyUrl: string) => Promise<void>,
  ): Promise<string[]> => {
    const asked: string[] = [];
    const server: Server = createServer((socket) => {
      socket.once('data', (data) => {
        asked.push(data.toString('latin1'));
        if (answer === undefined) socket.destroy();
        else socket.write(answer);
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    try {
      await test(`http://u:p@127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    } finally {
      server.close();
    }
    return asked;
  };
  const open = (proxyUrl: string, signal?: AbortSignal): Promise<unknown> =>
    openTunnel(parseProxyUrl(proxyUrl), 'registry.ferry.test', 443, { timeoutMs: 10_000, signal });

  it('asks for host:port with Proxy-Authorization and resolves on 2xx', async () => {
    const asked = await withProxy('HTTP/1.1 200 Connection established\r\n\r\n', async (url) => {
      const socket = (await open(url)) as { destroy(): void };
      socket.destroy();
    });
    expect(asked[0]).toBe(
      `CONNECT registry.ferry.test:443 HTTP/1.1\r\nhost: registry.ferry.test:443\r\nproxy-authorization: Basic ${Buffer.from('u:p').toString('base64')}\r\n\r\n`,
    );
  });
  it.each([
    ['HTTP/1.1 502 Bad Gateway\r\n\r\n', /answered CONNECT registry\.ferry\.test:443 with HTTP 502/, true],
    ['HTTP/1.1 403 Forbidden\r\n\r\n', /with HTTP 403/, false],
    ['HTTP/1.1 407 Proxy Authentication Required\r\n\r\n', /407 \(proxy authentication required/, false],
    ['HTTP/1.1 200 OK\r\n\r\nearly', /sent data before the tunnel/, true],
    ['garbage\r\n\r\n', /malformed answer/, true],
  ])('refuses %j', async (answer, message, retryable) => {
    await withProxy(answer, async (url) => {
      await expect(open(url)).rejects.toMatchObject({
        code: 'EFERRYPROXY',
        message: expect.stringMatching(message),
        retryable,
      });
    });
  });
  it('fails as a reset when the proxy hangs up, naming the proxy', async () => {
    await withProxy(undefined, async (url) => {
      await expect(open(url)).rejects.toMatchObject({
        code: 'ECONNRESET',
        message: expect.stringMatching(/^proxy 127\.0\.0\.1:\d+ closed the connection/),
      });
    });
  });
  it('stops when aborted', async () => {
    await withProxy('', async (url) => {
      const controller = new AbortController();
      const tunnel = open(url, controller.signal);
      controller.abort(new Error('stop'));
      await expect(tunnel).rejects.toThrow('stop');
    });
  });
});
