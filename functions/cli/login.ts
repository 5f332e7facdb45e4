/** `ferry login`'s work, loaded when it runs (verbs.ts has the command). */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { normaliseAuthKey } from '../oci/auth/credentials.js';
import { UsageError } from '../oci/errors.js';
import { createCliLogger } from './log.js';
import { createRuntime } from './runtime.js';

export interface LoginFlags {
  readonly username?: string;
  readonly password?: string;
  readonly passwordStdin?: boolean;
  readonly authfile?: string;
  readonly insecure: string[];
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
}

/** Where `skopeo login` / `podman login` write: `REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, else `~/.config/containers/auth.json`. */
export function loginAuthFile(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return join(home, '.config', 'containers', 'auth.json');
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `ferry login REGISTRY -u USER --password-stdin`: checks the credentials against the registry
 * (`GET /v2/` through its auth challenge), then stores them in the containers auth file as
 * skopeo does (`auths.<registry>.auth`, base64 `user:pass`; the file's other entries kept; written
 * to a temporary file, mode 0600, renamed over it). Wrong credentials write nothing.
 */
export async function runLogin(input: string, flags: LoginFlags, debug: boolean): Promise<number> {
  const registry = normaliseAuthKey(input);
  if (registry === '' || registry.includes('/')) throw new UsageError(`${input}: give a registry host`);
  const username = flags.username;
  if (username === undefined || username === '') throw new UsageError('login needs -u/--username');
  if (username.includes(':')) throw new UsageError('a username cannot contain ":"');
  if (flags.password !== undefined && flags.passwordStdin)
    throw new UsageError('give --password or --password-stdin, not both');
  const password = flags.passwordStdin ? await readStdin() : flags.password;
  if (password === undefined || password === '')
    throw new UsageError('login needs a password: --password-stdin (or -p, visible in ps)');

  const runtime = await createRuntime(
    { ...flags, createRepositories: false, srcCreds: `${username}:${password}` },
    createCliLogger(debug),
    { source: [registry], destination: [] },
  );
  try {
    const res = await runtime.registries.client(registry, 'source').request({
      method: 'GET',
      path: 'v2/',
      scopes: [],
      expect: [200],
    });
    res.body.resume();
  } finally {
    await runtime.close();
  }

  const path = flags.authfile ?? loginAuthFile();
  let file: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new UsageError(`auth file ${path} is not a JSON object: not changed`);
    file = parsed as Record<string, unknown>;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UsageError(`cannot read auth file ${path}: ${(err as Error).message}: not changed`, { cause: err });
  }
  const auths = typeof file.auths === 'object' && file.auths !== null ? (file.auths as Record<string, unknown>) : {};
  file.auths = { ...auths, [registry]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.ferry-${randomBytes(6).toString('hex')}`;
  try {
    await writeFile(temporary, `${JSON.stringify(file, null, '\t')}\n`, { mode: 0o600 });
    await rename(temporary, path);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new UsageError(`cannot write auth file ${path}: ${(err as Error).message}`, { cause: err });
  }
  process.stdout.write('Login Succeeded!\n');
  return 0;
}
