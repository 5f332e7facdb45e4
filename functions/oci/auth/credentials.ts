import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { canonicalRegistry, dockerHubRegistry } from '../reference.js';

/** What a registry accepts: a user and password (Basic, or for a token), or an OAuth2 refresh token. */
export type Credential =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'identityToken'; readonly token: string };

/** Looks up the credential for a registry host; undefined means anonymous. */
export interface CredentialStore {
  get(registry: string): Promise<Credential | undefined>;
}

export const anonymous: CredentialStore = { get: () => Promise.resolve(undefined) };

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const controlChars = /[\u0000-\u001f\u007f]/;

/**
 * `user:password` split at the first colon (a Basic user-id holds none, RFC 7617 §2, while a
 * password may). Undefined when there is no user, no colon, or a control character anywhere.
 * The one decoder for flags, auth files and registry secrets.
 */
export function splitUserPass(value: string): { username: string; password: string } | undefined {
  const colon = value.indexOf(':');
  if (colon <= 0 || controlChars.test(value)) return undefined;
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/**
 * Docker config's `auth`: standard base64 of `user:password`. Strict: text that is not canonical
 * base64 (a `user:password` pasted unencoded, say) is refused rather than decoded into garbage.
 */
export function decodeDockerAuth(auth: string): { username: string; password: string } | undefined {
  const bytes = Buffer.from(auth, 'base64');
  if (auth === '' || bytes.toString('base64') !== auth) return undefined;
  return splitUserPass(bytes.toString('utf8'));
}

/**
 * `Basic base64(user:password)` (RFC 7617), the one encoder for registry Basic auth, token
 * requests and `Proxy-Authorization`; {@link decodeDockerAuth} reads what it writes.
 */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** `USER:PASS` as given to `--src-creds`/`--dest-creds`. */
export function parseUserPass(value: string, flag: string): Credential {
  const pair = splitUserPass(value);
  if (!pair) throw new UsageError(`${flag} must be USER:PASS`);
  return { kind: 'basic', ...pair };
}

/** Fixed credentials per registry host (flags, API input held in memory). */
export class StaticCredentials implements CredentialStore {
  readonly #byHost: ReadonlyMap<string, Credential>;
  constructor(byHost: ReadonlyMap<string, Credential>) {
    this.#byHost = byHost;
  }
  get(registry: string): Promise<Credential | undefined> {
    return Promise.resolve(this.#byHost.get(registry));
  }
}

/** The first store that knows the host wins. */
export class ChainedCredentials implements CredentialStore {
  readonly #stores: readonly CredentialStore[];
  constructor(stores: readonly CredentialStore[]) {
    this.#stores = stores;
  }
  async get(registry: string): Promise<Credential | undefined> {
    for (const store of this.#stores) {
      const found = await store.get(registry);
      if (found) return found;
    }
    return undefined;
  }
}

const authFileSchema = z.looseObject({
  auths: z
    .record(
      z.string(),
      z.looseObject({
        auth: z.string().optional(),
        identitytoken: z.string().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
      }),
    )
    .optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
  credsStore: z.string().optional(),
});
type AuthFile = z.infer<typeof authFileSchema>;

const helperOutputSchema = z.object({ Username: z.string(), Secret: z.string() });

export type HelperRunner = (helper: string, registry: string) => Promise<string>;

/** Reads an auth file as UTF-8 text; a missing file rejects with an error whose `code` is `ENOENT`. */
export type AuthFileReader = (path: string) => Promise<string>;

const readUtf8: AuthFileReader = (path) => readFile(path, 'utf8');

/** Runs `docker-credential-<name> get` with the registry on stdin. */
export const runCredentialHelper: HelperRunner = (helper, registry) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      `docker-credential-${helper}`,
      ['get'],
      { timeout: 30_000, maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err)
          reject(
            new UsageError(`credential helper docker-credential-${helper} failed for ${registry}`, { cause: err }),
          );
        else resolve(stdout);
      },
    );
    child.stdin?.end(registry);
  });

/** The pinned lookup order for auth files when `--authfile` is not given. */
export function defaultAuthFilePaths(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string[] {
  const paths: string[] = [];
  if (env.REGISTRY_AUTH_FILE) paths.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  paths.push(join(home, '.config', 'containers', 'auth.json'));
  paths.push(join(env.DOCKER_CONFIG ?? join(home, '.docker'), 'config.json'));
  return paths;
}

/**
 * Credentials from containers-auth.json / Docker config.json files: `auths` (base64 `user:pass`
 * or an identity token), `credHelpers` per host, then `credsStore`. Files are searched in order;
 * the first that has an entry for the host wins.
 */
export class AuthFileCredentials implements CredentialStore {
  readonly #paths: readonly string[];
  readonly #required: boolean;
  readonly #runHelper: HelperRunner;
  readonly #readFile: AuthFileReader;
  #files: Promise<{ path: string; file: AuthFile }[]> | undefined;

  /** `runHelper` and `readFile` default to the real helpers and file system (tests hand in fakes). */
  constructor(
    paths: readonly string[],
    options: { required?: boolean; runHelper?: HelperRunner; readFile?: AuthFileReader } = {},
  ) {
    this.#paths = paths;
    this.#required = options.required ?? false;
    this.#runHelper = options.runHelper ?? runCredentialHelper;
    this.#readFile = options.readFile ?? readUtf8;
  }

  async get(registry: string): Promise<Credential | undefined> {
    for (const { path, file } of await this.#load()) {
      const entry = findAuthEntry(file, registry);
      if (entry) return decodeAuthEntry(entry, path, registry);
      const helper =
        file.credHelpers?.[registry] ??
        (registry === dockerHubRegistry ? file.credHelpers?.['index.docker.io'] : undefined);
      const store = helper ?? file.credsStore;
      if (store) {
        const fromHelper = await this.#fromHelper(store, registry);
        if (fromHelper) return fromHelper;
      }
    }
    return undefined;
  }

  async #fromHelper(helper: string, registry: string): Promise<Credential | undefined> {
    const serverUrl = registry === dockerHubRegistry ? 'https://index.docker.io/v1/' : registry;
    let output: string;
    try {
      output = await this.#runHelper(helper, serverUrl);
    } catch (err) {
      // A store (credsStore) that simply lacks the host is not an error; the helper says so on stderr.
      if (/credentials not found/i.test(String((err as { cause?: { stderr?: unknown } }).cause?.stderr ?? '')))
        return undefined;
      throw err;
    }
    const parsed = helperOutputSchema.safeParse(JSON.parse(output || '{}'));
    if (!parsed.success)
      throw new UsageError(
        `credential helper docker-credential-${helper} returned an unexpected answer for ${registry}`,
      );
    return parsed.data.Username === '<token>'
      ? { kind: 'identityToken', token: parsed.data.Secret }
      : { kind: 'basic', username: parsed.data.Username, password: parsed.data.Secret };
  }

  #load(): Promise<{ path: string; file: AuthFile }[]> {
    this.#files ??= Promise.all(
      this.#paths.map(async (path) => ({ path, file: await readAuthFile(this.#readFile, path, this.#required) })),
    ).then((files) => files.filter((f): f is { path: string; file: AuthFile } => f.file !== undefined));
    return this.#files;
  }
}

async function readAuthFile(read: AuthFileReader, path: string, required: boolean): Promise<AuthFile | undefined> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    if (!required && (err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read auth file ${path}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`auth file ${path} is not valid JSON`);
  }
  const parsed = authFileSchema.safeParse(json);
  if (!parsed.success)
    throw new UsageError(`auth file ${path} is not a containers-auth.json / Docker config.json file`);
  return parsed.data;
}

type AuthEntry = NonNullable<AuthFile['auths']>[string];

function findAuthEntry(file: AuthFile, registry: string): AuthEntry | undefined {
  for (const [key, entry] of Object.entries(file.auths ?? {})) {
    if (normaliseAuthKey(key) === registry) return entry;
  }
  return undefined;
}

/** `https://index.docker.io/v1/` (or another Docker Hub alias) → `docker.io`; `https://host:5000/path` → `host:5000`. */
export function normaliseAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .split('/')[0]!
    .toLowerCase();
  return canonicalRegistry(host);
}

function decodeAuthEntry(entry: AuthEntry, path: string, registry: string): Credential | undefined {
  if (entry.identitytoken) return { kind: 'identityToken', token: entry.identitytoken };
  if (entry.username !== undefined && entry.password !== undefined)
    return { kind: 'basic', username: entry.username, password: entry.password };
  if (entry.auth === undefined || entry.auth === '') return undefined;
  const pair = decodeDockerAuth(entry.auth);
  if (!pair) throw new UsageError(`auth file ${path}: the entry for ${registry} is not base64 "user:password"`);
  return { kind: 'basic', ...pair };
}
