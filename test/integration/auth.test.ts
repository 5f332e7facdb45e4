import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { anonymous } from '../../functions/oci/auth/credentials.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { basicCreds, basicHeader, createEngine, tokenHeader } from '../support/engine.js';
import { cleanEnv, runFerry, skopeoDigest } from '../support/cli.js';

const { seed, src, basic, token } = inject('registries');
const rng = new Rng(seed + 2);
const repo = (name: string): string => `auth/${name}-${rng.int(1e9)}`;
const basicAuth = basicHeader(basic.username, basic.password);
const tokenAuth = tokenHeader(token.realm, 'ferry-test-registry', token.username, token.password);

function authFile(entries: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-auth-'));
  const path = join(dir, 'auth.json');
  const auths = Object.fromEntries(Object.entries(entries).map(([host, userPass]) => [host, { auth: Buffer.from(userPass).toString('base64') }]));
  writeFileSync(path, JSON.stringify({ auths }));
  return path;
}

describe('Basic auth (htpasswd registry)', () => {
  it('copies into it with --dest-creds and out of it with --src-creds', async () => {
    const image = buildImage({ layers: [rng.bytes(30_000)] });
    const name = repo('basic');
    await push(src.url, name, 'v1', image);
    const into = await runFerry(['copy', '--json', '--dest-creds', `${basic.username}:${basic.password}`, `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`]);
    expect(into.stderr).toBe('');
    expect(into.code).toBe(0);
    expect(JSON.parse(into.stdout)).toMatchObject({ digest: image.digest, status: 'copied', blobs: { copied: 2 } });
    expect(await remoteDigest(basic.url, name, 'v1', basicAuth)).toBe(image.digest);
    expect(await skopeoDigest(`${basic.host}/${name}:v1`, `${basic.username}:${basic.password}`)).toBe(image.digest);

    const out = await runFerry(['copy', '--json', '--src-creds', `${basic.username}:${basic.password}`, `${basic.host}/${name}:v1`, `${src.host}/${name}-back:v1`]);
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
    const viaEnv = await runFerry(['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v2`], cleanEnv({ REGISTRY_AUTH_FILE: file }));
    expect(viaEnv.code).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v2', basicAuth)).toBe(image.digest);
  });

  it('reads ~/.docker/config.json with a credHelpers entry', async () => {
    const image = buildImage({ layers: [rng.bytes(9_000)] });
    const name = repo('helper');
    await push(src.url, name, 'v1', image);
    const env = cleanEnv();
    const bin = mkdtempSync(join(tmpdir(), 'ferry-helper-'));
    writeFileSync(join(bin, 'docker-credential-ferrytest'),
      `#!/bin/sh\nread host\n[ "$host" = "${basic.host}" ] || exit 1\necho '{"ServerURL":"${basic.host}","Username":"${basic.username}","Secret":"${basic.password}"}'\n`, { mode: 0o755 });
    const dockerDir = join(env.HOME!, '.docker');
    await import('node:fs/promises').then((fs) => fs.mkdir(dockerDir, { recursive: true }));
    writeFileSync(join(dockerDir, 'config.json'), JSON.stringify({ credHelpers: { [basic.host]: 'ferrytest' } }));
    const result = await runFerry(['copy', `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`], { ...env, PATH: `${bin}:${env.PATH}` });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(await remoteDigest(basic.url, name, 'v1', basicAuth)).toBe(image.digest);
  });

  it('fails with exit 1 and one line naming registry and repository when credentials are wrong', async () => {
    const image = buildImage({ layers: [rng.bytes(1_000)] });
    const name = repo('wrong');
    await push(src.url, name, 'v1', image);
    const result = await runFerry(['copy', '--dest-creds', 'alice:wrong', `${src.host}/${name}:v1`, `${basic.host}/${name}:v1`]);
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
        engine.registries.repository({ kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } }, 'source'), 'v1',
        engine.registries.repository({ kind: 'registry', ref: { registry: token.host, repository: name, tag: 'v1' } }, 'destination'), 'v1',
      );
      expect(into.blobs.copied).toBe(3);
      expect(await remoteDigest(token.url, name, 'v1', tokenAuth)).toBe(image.digest);
    } finally {
      await engine.close();
    }
    const file = authFile({ [`https://${token.host}`]: `${token.username}:${token.password}` });
    const out = await runFerry(['copy', '--json', '--authfile', file, `${token.host}/${name}:v1`, `${src.host}/${name}-out:v1`]);
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
        engine.registries.repository({ kind: 'registry', ref: { registry: token.host, repository: name, tag: 'v1' } }, 'source'), 'v1',
        engine.registries.repository({ kind: 'registry', ref: { registry: src.host, repository: name, tag: 'v1' } }, 'destination'), 'v1',
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
