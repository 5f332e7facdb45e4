import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { anonymous } from '../../functions/oci/auth/credentials.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { basicCreds, basicHeader, createEngine, tokenHeader } from '../support/engine.js';
import { cleanEnv, runFerry, skopeoDigest } from '../support/cli.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';

const { seed, src, dst, basic, token } = inject('registries');
const rng = new Rng(seed + 2);
const repo = (name: string): string => `auth/${name}-${rng.int(1e9)}`;
const basicAuth = basicHeader(basic.username, basic.password);
const tokenAuth = tokenHeader(token.realm, 'ferry-test-registry', token.username, token.password);

function authFile(entries: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-auth-'));
  const path = join(dir, 'auth.json');
  const auths = Object.fromEntries(
    Object.entries(entries).map(([host, userPass]) => [host, { auth: Buffer.from(userPass).toString('base64') }]),
  );
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

describe('Basic auth (htpasswd registry)', () => {
  it('copies into it with --dest-creds and out of it with --src-creds', async () => {
    const image = buildImage({ layers: [rng.bytes(30_000)] });
    const name = repo('basic');
    await push(src.url, name, 'v1', image);
    const into = await runFerry([
      'copy',
      '--json',
      '--dest-creds',
      `${basic.username}:${basic.password}`,
      `${src.host}/${name}:v1`,
      `${basic.host}/${name}:v1`,
    ]);
    expect(into.stderr).toBe('');
    expect(into.code).toBe(0);
    expect(JSON.parse(into.stdout)).toMatchObject({ digest: image.digest, status: 'copied', blobs: { copied: 2 } });
    expect(await remoteDigest(basic.url, name, 'v1', basicAuth)).toBe(image.digest);
    expect(await skopeoDigest(`${basic.host}/${name}:v1`, `${basic.username}:${basic.password}`)).toBe(image.digest);

    const out = await runFerry([
      'copy',
      '--json',
      '--src-creds',
      `${basic.username}:${basic.password}`,
      `${basic.host}/${name}:v1`,
      `${src.host}/${name}-back:v1`,
    ]);
    expect(out.code).toBe(0);
    expect(await remoteDigest(src.url, `${name}-back`, 'v1')).toBe(image.digest);
  });

  it('reads credentials from --authfile and from $REGISTRY_AUTH_FILE', async () => {
    const image = buildImage({ layers: [rng.bytes(10_000)] });
    const name = repo('authfile');
    await push(src.url, name, 'v1', image);
    const file = authFile({ [basic.host]: `${basic.username}:${basic.password}` });
    const withFlag = await runFerry(['copy', '--authfile', file, `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`]);
    expect(withFlag.code).toBe(0);
    const viaEnv = await runFerry(
      ['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v2`],
      cleanEnv({ REGISTRY_AUTH_FILE: file }),
    );
    expect(viaEnv.code).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v2', basicAuth)).toBe(image.digest);
  });

  it('reads ~/.docker/config.json with a credHelpers entry', async () => {
    const image = buildImage({ layers: [rng.bytes(9_000)] });
    const name = repo('helper');
    await push(src.url, name, 'v1', image);
    const env = cleanEnv();
    const bin = mkdtempSync(join(tmpdir(), 'ferry-helper-'));
    writeFileSync(
      join(bin, 'docker-credential-ferrytest'),
      `#!/bin/sh\nread host\n[ "$host" = "${basic.host}" ] || exit 1\necho '{"ServerURL":"${basic.host}","Username":"${basic.username}","Secret":"${basic.password}"}'\n`,
      { mode: 0o755 },
    );
    const dockerDir = join(env.HOME!, '.docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(dockerDir, { recursive: true }));
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ credHelpers: { [basic.host]: 'ferrytest' } }));
    const result = await runFerry(['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`], {
      ...env,
      PATH: `${bin}:${env.PATH}`,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v1', basicAuth)).toBe(image.digest);
  });

  it('fails with exit 1 and one line naming registry and repository when credentials are wrong', async () => {
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('wrong');
    await push(src.url, name, 'v1', image);
    const result = await runFerry([
      'copy',
      '--dest-creds',
      'alice:wrong',
      `${src.host}/${name}:v1`,
      `${basic.host}/${name}:v1`,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`${basic.host}/${name}`);
    expect(result.stderr).toMatch(/access denied|authentication/);
    expect(result.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });
});

describe('Bearer token auth (token registry + JWT issuer)', () => {
  it('copies in and out with credentials from the engine and from an auth file', async () => {
    const image = buildImage({ layers: [rng.bytes(40_000), rng.bytes(20_000)] });
    const name = repo('token');
    await push(src.url, name, 'v1', image);
    const engine = createEngine({
      sourceCredentials: basicCreds(token.host, token.username, token.password),
      destinationCredentials: basicCreds(token.host, token.username, token.password),
    });
    try {
      const into = await engine.copier.copy(
        engine.registries.image(
          { kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } },
          'source',
        ),
        engine.registries.image(
          { kind: 'registry', ref: { registry: token.host, repository: name, tag: 'v1' } },
          'destination',
        ),
      );
      expect(into.blobs.copied).toBe(3);
      expect(await remoteDigest(token.url, name, 'v1', tokenAuth)).toBe(image.digest);
    } finally {
      await engine.close();
    }
    const file = authFile({ [`https://${token.host}`]: `${token.username}:${token.password}` });
    const out = await runFerry([
      'copy',
      '--json',
      '--authfile',
      file,
      `${token.host}/${name}:v1`,
      `${src.host}/${name}-out:v1`,
    ]);
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toMatchObject({ digest: image.digest, status: 'copied' });
  });

  it('pulls anonymously where the token server grants anonymous pull', async () => {
    const image = buildImage({ layers: [rng.bytes(5_000)] });
    const name = `public/anon-${rng.int(1e9)}`;
    await push(token.url, name, 'v1', image, tokenAuth);
    const engine = createEngine({ sourceCredentials: anonymous });
    try {
      const result = await engine.copier.copy(
        engine.registries.image(
          { kind: 'registry', ref: { registry: token.host, repository: name, tag: 'v1' } },
          'source',
        ),
        engine.registries.image(
          { kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } },
          'destination',
        ),
      );
      expect(result.digest).toBe(image.digest);
    } finally {
      await engine.close();
    }
  });

  it('refuses to push without credentials, with a clear message', async () => {
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('denied');
    await push(src.url, name, 'v1', image);
    const result = await runFerry(['copy', `${src.host}/${name}:v1`, `${token.host}/${name}:v1`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(token.host);
    expect(result.stderr).toMatch(/access denied|requires credentials|authentication/);
  });
});

/**
 * A registry (an open one behind a proxy) that asks for Basic auth whenever a request has none,
 * forwards the rest, and records every request: it gets any credential Ferry holds for its host.
 */
async function challengingRegistry(upstream: string): Promise<FaultProxy> {
  return startFaultProxy(upstream, (req) =>
    req.headers.authorization === undefined
      ? {
          kind: 'respond',
          status: 401,
          headers: { 'www-authenticate': 'Basic realm="recorder"' },
          body: '{"errors":[{"code":"UNAUTHORIZED"}]}',
        }
      : undefined,
  );
}

describe("--src-creds / --dest-creds go to one registry only (their side's)", () => {
  const alice = `${basic.username}:${basic.password}`;
  const aliceHeader = `Basic ${Buffer.from(alice).toString('base64')}`;
  const bobHeader = `Basic ${Buffer.from('bob:builder').toString('base64')}`;
  const authorizations = (proxy: FaultProxy): string[] => [
    ...new Set(proxy.seen.map((r) => r.headers.authorization ?? '-')),
  ];
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('copy: the source credential never reaches the destination registry, which gets only its own', async () => {
    const image = buildImage({ layers: [rng.bytes(12_000)] });
    const name = repo('bound-copy');
    await push(basic.url, name, 'v1', image, basicAuth);
    proxy = await challengingRegistry(dst.url);
    const result = await runFerry([
      'copy',
      '--src-creds',
      alice,
      '--dest-creds',
      'bob:builder',
      `${basic.host}/${name}:v1`,
      `${proxy.host}/${name}:v1`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(await remoteDigest(dst.url, name, 'v1')).toBe(image.digest);
    expect(authorizations(proxy).sort()).toEqual(['-', bobHeader]);
    expect(proxy.seen.some((r) => r.headers.authorization === aliceHeader)).toBe(false);
  });

  it('mirror from one source registry: FERRY_SRC_CREDS goes to it, FERRY_DEST_CREDS to the --to registry, neither elsewhere', async () => {
    const images = [buildImage({ layers: [rng.bytes(4_000)] }), buildImage({ layers: [rng.bytes(5_000)] })];
    const names = [repo('bound-mirror-a'), repo('bound-mirror-b')];
    await Promise.all(images.map((image, i) => push(basic.url, names[i]!, 'v1', image, basicAuth)));
    proxy = await challengingRegistry(dst.url);
    const result = await runFerry(
      ['mirror', '--to', `${proxy.host}/m`, ...names.map((n) => `${basic.host}/${n}:v1`)],
      cleanEnv({ FERRY_SRC_CREDS: alice, FERRY_DEST_CREDS: 'bob:builder' }),
    );
    expect(result.code, result.stderr).toBe(0);
    for (const [i, name] of names.entries())
      expect(await remoteDigest(dst.url, `m/${name}`, 'v1')).toBe(images[i]!.digest);
    expect(authorizations(proxy).sort()).toEqual(['-', bobHeader]);
  });

  it('mirror from two source registries with --src-creds (or its file or FERRY_SRC_CREDS) is a usage error naming both; no registry is asked', async () => {
    const image = buildImage({ layers: [rng.bytes(2_000)] });
    const name = repo('two-sources');
    await push(src.url, name, 'v1', image);
    proxy = await challengingRegistry(src.url);
    const imagesFile = join(mkdtempSync(join(tmpdir(), 'ferry-images-')), 'images.txt');
    writeFileSync(imagesFile, `${basic.host}/${name}:v1\n${proxy.host}/${name}:v1\n`);
    const credsFile = join(mkdtempSync(join(tmpdir(), 'ferry-creds-')), 'creds');
    writeFileSync(credsFile, `${alice}\n`, { mode: 0o600 });
    const runs: [string, string[], NodeJS.ProcessEnv][] = [
      ['--src-creds', ['--src-creds', alice], cleanEnv()],
      ['--src-creds-file', ['--src-creds-file', credsFile], cleanEnv()],
      ['FERRY_SRC_CREDS', [], cleanEnv({ FERRY_SRC_CREDS: alice })],
    ];
    for (const [from, flags, env] of runs) {
      const result = await runFerry(['mirror', ...flags, '--to', `${dst.host}/two`, '--images-file', imagesFile], env);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(
        `${from} is for one registry, but the images come from 2 registries (${basic.host}, ${proxy.host})`,
      );
      expect(result.stderr).toContain('auth file (--authfile)');
      expect(result.stderr).not.toContain(basic.password);
    }
    expect(proxy.seen).toEqual([]);
    expect(await remoteDigest(dst.url, `two/${name}`, 'v1')).toBeUndefined();
  });
});
