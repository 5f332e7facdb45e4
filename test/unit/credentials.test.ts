import { describe, expect, it } from 'vitest';
import {
  AuthFileCredentials,
  basicAuthorization,
  decodeDockerAuth,
  defaultAuthFilePaths,
  normaliseAuthKey,
  parseUserPass,
} from '../../functions/oci/auth/credentials.js';
import { dockerHubAliases, parseImageReference } from '../../functions/oci/reference.js';
import { registrySecretSchema, sameRegistry } from '../../functions/runs/credential-binding.js';
import { bindCredential } from '../../functions/cli/credential-flags.js';

// Auth files in memory: no temp dirs in the unit tier. A path not written reads as ENOENT, as on disk.
const files = new Map<string, string>();
const readFile = (path: string): Promise<string> => {
  const text = files.get(path);
  return text === undefined
    ? Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }))
    : Promise.resolve(text);
};
function file(content: object | string): string {
  const path = `/memory/${files.size}/auth.json`;
  files.set(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}
const authFiles = (
  paths: string[],
  options: Omit<NonNullable<ConstructorParameters<typeof AuthFileCredentials>[1]>, 'readFile'> = {},
): AuthFileCredentials => new AuthFileCredentials(paths, { ...options, readFile });
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('auth files', () => {
  it('follows the pinned lookup order', () => {
    expect(defaultAuthFilePaths({ REGISTRY_AUTH_FILE: '/a.json', XDG_RUNTIME_DIR: '/run/user/1' }, '/home/u')).toEqual([
      '/a.json',
      '/run/user/1/containers/auth.json',
      '/home/u/.config/containers/auth.json',
      '/home/u/.docker/config.json',
    ]);
  });

  it('normalises keys with schemes, paths and Docker Hub aliases', () => {
    expect(normaliseAuthKey('https://index.docker.io/v1/')).toBe('docker.io');
    expect(normaliseAuthKey('HTTPS://Quay.io')).toBe('quay.io');
    expect(normaliseAuthKey('localhost:5000')).toBe('localhost:5000');
  });

  it('knows every Docker Hub alias that references know, so an auth-file key and a reference agree', () => {
    expect([...dockerHubAliases].sort()).toEqual([
      'index.docker.io',
      'registry-1.docker.io',
      'registry.hub.docker.com',
    ]);
    for (const alias of dockerHubAliases) {
      expect(normaliseAuthKey(`https://${alias}/v1/`)).toBe('docker.io');
      expect(normaliseAuthKey(alias.toUpperCase())).toBe('docker.io');
      expect(parseImageReference(`${alias}/alpine`)).toEqual({
        registry: 'docker.io',
        repository: 'library/alpine',
        tag: 'latest',
      });
      expect(sameRegistry(alias, 'docker.io')).toBe(true);
    }
    expect(normaliseAuthKey('hub.docker.io')).toBe('hub.docker.io');
  });

  it('decodes auths, identity tokens and passwords with colons; the first file with the host wins', async () => {
    const first = file({ auths: { 'quay.io': { auth: b64('bob:pa:ss') }, 'ghcr.io': { identitytoken: 'refresh' } } });
    const second = file({
      auths: { 'quay.io': { auth: b64('other:x') }, 'https://index.docker.io/v1/': { auth: b64('hub:pw') } },
    });
    const store = authFiles([first, '/nonexistent/auth.json', second]);
    expect(await store.get('quay.io')).toEqual({ kind: 'basic', username: 'bob', password: 'pa:ss' });
    expect(await store.get('ghcr.io')).toEqual({ kind: 'identityToken', token: 'refresh' });
    expect(await store.get('docker.io')).toEqual({ kind: 'basic', username: 'hub', password: 'pw' });
    expect(await store.get('example.com')).toBeUndefined();
  });

  it('asks credHelpers per host, then credsStore', async () => {
    const path = file({ credHelpers: { 'a.io': 'one' }, credsStore: 'desktop' });
    const calls: string[] = [];
    const store = authFiles([path], {
      runHelper: (helper, registry) => {
        calls.push(`${helper} ${registry}`);
        return Promise.resolve(
          JSON.stringify(helper === 'one' ? { Username: 'u', Secret: 's' } : { Username: '<token>', Secret: 't' }),
        );
      },
    });
    expect(await store.get('a.io')).toEqual({ kind: 'basic', username: 'u', password: 's' });
    expect(await store.get('docker.io')).toEqual({ kind: 'identityToken', token: 't' });
    expect(calls).toEqual(['one a.io', 'desktop https://index.docker.io/v1/']);
  });

  it('fails clearly on an unreadable --authfile or bad JSON', async () => {
    await expect(authFiles(['/nonexistent.json'], { required: true }).get('x')).rejects.toMatchObject({
      name: 'UsageError',
      code: 'USAGE',
      cause: { code: 'ENOENT' },
    });
    // Not required (the default lookup order): a missing file is no file, not an error.
    expect(await authFiles(['/nonexistent.json']).get('x')).toBeUndefined();
    const bad = file('{');
    await expect(authFiles([bad]).get('x')).rejects.toMatchObject({ name: 'UsageError', code: 'USAGE' });
  });

  it('parses USER:PASS flags', () => {
    expect(parseUserPass('a:b:c', '--src-creds')).toEqual({ kind: 'basic', username: 'a', password: 'b:c' });
    expect(() => parseUserPass('nopass', '--src-creds')).toThrow(/--src-creds must be USER:PASS/);
  });
});

// One decoder for `user:password`: flags, auth files' `auth` and registry secrets' `auth` agree.
describe('user:password decoding', () => {
  const cases: [string, { username: string; password: string } | undefined][] = [
    ['bob:hunter2', { username: 'bob', password: 'hunter2' }],
    ['bob:pa:ss@/x', { username: 'bob', password: 'pa:ss@/x' }],
    ['bob:', { username: 'bob', password: '' }],
    [':hunter2', undefined],
    ['no-colon', undefined],
    ['bob:hun\nter2', undefined],
    ['b\tob:hunter2', undefined],
  ];

  it('encodes Basic authorization as decodeDockerAuth reads it back', () => {
    expect(basicAuthorization('bob', 'pa:ss')).toBe(`Basic ${b64('bob:pa:ss')}`);
    expect(decodeDockerAuth(basicAuthorization('bob', 'pa:ss').slice('Basic '.length))).toEqual({
      username: 'bob',
      password: 'pa:ss',
    });
  });

  it.each(cases)('decodes base64 %j the same way everywhere', async (userPass, expected) => {
    const auth = b64(userPass);
    expect(decodeDockerAuth(auth)).toEqual(expected);
    const store = authFiles([file({ auths: { 'quay.io': { auth } } })]);
    const secret = registrySecretSchema.safeParse({ auth, registry: 'quay.io' });
    if (expected === undefined) {
      await expect(store.get('quay.io')).rejects.toThrow(/the entry for quay.io is not base64 "user:password"/);
      expect(secret.success).toBe(false);
      expect(() => parseUserPass(userPass, '--src-creds')).toThrow(/--src-creds must be USER:PASS/);
    } else {
      expect(await store.get('quay.io')).toEqual({ kind: 'basic', ...expected });
      expect(parseUserPass(userPass, '--src-creds')).toEqual({ kind: 'basic', ...expected });
      // A secret's password must not be empty; otherwise it reads what the auth file reads.
      expect(secret.success ? secret.data : undefined).toEqual(
        expected.password === '' ? undefined : { ...expected, registry: 'quay.io' },
      );
    }
  });

  it('refuses an auth that is not canonical base64 (user:password pasted unencoded, stray characters)', async () => {
    for (const auth of [
      'bob:hunter2',
      `${b64('bob:hunter2')}!`,
      `${b64('bob:hunter2')}\n`,
      b64('bob:hunter2').replace(/=+$/, ''),
    ]) {
      expect(decodeDockerAuth(auth)).toBeUndefined();
      expect(registrySecretSchema.safeParse({ auth, registry: 'quay.io' }).success).toBe(false);
      await expect(authFiles([file({ auths: { 'quay.io': { auth } } })]).get('quay.io')).rejects.toThrow(/not base64/);
    }
  });
});

describe("a --src-creds / --dest-creds credential is bound to its side's one registry", () => {
  const found = { credential: { kind: 'basic' as const, username: 'u', password: 'p' }, from: '--src-creds' };

  it('goes to that host only: not to another host, nor to another port of the same host', async () => {
    const store = bindCredential(found, ['127.0.0.1:5000', '127.0.0.1:5000'], 'source')!;
    expect(await store.get('127.0.0.1:5000')).toEqual(found.credential);
    expect(await store.get('127.0.0.1:5001')).toBeUndefined();
    expect(await store.get('quay.io')).toBeUndefined();
  });

  it('is unused by a side with no registry (an oci: layout), and absent when none was given', () => {
    expect(bindCredential(found, [], 'source')).toBeUndefined();
    expect(bindCredential(undefined, ['quay.io'], 'source')).toBeUndefined();
  });

  it('is a usage error for a side on two registries, naming both', () => {
    expect(() => bindCredential(found, ['quay.io', 'ghcr.io', 'quay.io'], 'source')).toThrow(
      '--src-creds is for one registry, but the images come from 2 registries (quay.io, ghcr.io)',
    );
  });
});
