import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { stringify } from 'yaml';
import { freePort, waitFor } from './ports.js';

export type RegistryAuth =
  | { kind: 'none' }
  | { kind: 'htpasswd'; users: Record<string, string> }
  | { kind: 'token'; realm: string; service: string; issuer: string; certFile: string };

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly url: string;
  readonly dir: string;
  /** Where the registry keeps blobs and upload sessions (`storage.filesystem.rootdirectory`). */
  readonly dataDir: string;
  stop(): Promise<void>;
  /** Stops the process and starts it again on the same port, config and storage (upload sessions included). */
  restart(): Promise<void>;
}

/** TLS for a test registry (a certificate for 127.0.0.1: clients verify it when told to, `--tls-verify`). */
export interface RegistryTls {
  readonly certFile: string;
  readonly keyFile: string;
}

/** The `auth` section of a registry's config; an htpasswd file (bcrypt cost 4: the registry re-checks it per request) is written under `dir`. */
export function registryAuthConfig(dir: string, auth: RegistryAuth): Record<string, unknown> | undefined {
  if (auth.kind === 'htpasswd') {
    const file = join(dir, 'htpasswd');
    writeFileSync(file, '');
    for (const [user, password] of Object.entries(auth.users)) {
      execFileSync('htpasswd', ['-bB', '-C', '4', file, user, password], { stdio: 'ignore' });
    }
    return { htpasswd: { realm: 'ferry-test', path: file } };
  }
  if (auth.kind === 'token')
    return { token: { realm: auth.realm, service: auth.service, issuer: auth.issuer, rootcertbundle: auth.certFile } };
  return undefined;
}

/** Registry settings a test may change; every default is what the other tests run on. */
export interface RegistryOptions {
  /** `storage.delete.enabled` (default true): false makes manifest DELETEs answer 405 UNSUPPORTED. */
  readonly deleteEnabled?: boolean;
}

/** A test registry's config: storage under `dir`, 127.0.0.1:`port`, TLS and auth when given (never Debian's config.yml). */
export function registryConfig(
  dir: string,
  port: number,
  tls?: RegistryTls,
  auth?: Record<string, unknown>,
  options: RegistryOptions = {},
): Record<string, unknown> {
  return {
    version: 0.1,
    log: { level: 'error', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: join(dir, 'data') },
      delete: { enabled: options.deleteEnabled ?? true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: 'ferry-test-secret',
      ...(tls ? { tls: { certificate: tls.certFile, key: tls.keyFile } } : {}),
    },
    health: { storagedriver: { enabled: false } },
    // Foreign (non-distributable) layers are accepted by URL, as Docker Hub does for Windows bases.
    validation: { manifests: { urls: { allow: ['^https?://'] } } },
    ...(auth ? { auth } : {}),
  };
}

/**
 * Starts a real `docker-registry` (CNCF distribution 2.8) on a random loopback port with its
 * own storage directory and config (never Debian's /etc/docker/registry/config.yml).
 */
export async function startRegistry(
  auth: RegistryAuth = { kind: 'none' },
  tls?: RegistryTls,
  options: RegistryOptions = {},
): Promise<RunningRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-registry-'));
  const authConfig = registryAuthConfig(dir, auth);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const config = registryConfig(dir, port, tls, authConfig, options);
    const configFile = join(dir, 'config.yml');
    writeFileSync(configFile, stringify(config));
    const first = await spawnRegistry(configFile, join(dir, `registry-${port}.log`), port, tls);
    if (first === undefined) continue;
    let child: ChildProcess = first;
    const host = `127.0.0.1:${port}`;
    const url = `${tls ? 'https' : 'http'}://${host}`;
    const restart = async (): Promise<void> => {
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
      const next = await spawnRegistry(configFile, join(dir, `registry-${port}.log`), port, tls);
      if (next === undefined) throw new Error(`docker-registry did not come back on port ${port}`);
      child = next;
    };
    return { host, url, dir, dataDir: join(dir, 'data'), stop: () => stopProcess(child, dir), restart };
  }
  throw new Error('could not start docker-registry (is the docker-registry package installed?)');
}

/** Spawns `docker-registry serve CONFIG` and waits until it answers; undefined when it did not start. */
async function spawnRegistry(
  configFile: string,
  logFile: string,
  port: number,
  tls: RegistryTls | undefined,
): Promise<ChildProcess | undefined> {
  // WARNING: the registry logs every 4xx at error level. Its output goes to a file, never a
  // pipe: a parent that stops reading a pipe (spawnSync, a busy loop) would block the registry.
  const child = spawn('docker-registry', ['serve', configFile], {
    stdio: ['ignore', 'ignore', openSync(logFile, 'a')],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  try {
    await waitFor(async () => {
      if (exited) throw new Error(readFileSync(logFile, 'utf8'));
      if (tls) return await tlsAnswers(port);
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      return res.status === 200 || res.status === 401;
    }, `registry on ${port}`);
  } catch {
    child.kill('SIGKILL');
    return undefined;
  }
  return child;
}

function stopProcess(child: ChildProcess, dir: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      rmSync(dir, { recursive: true, force: true });
      resolve();
    };
    if (child.exitCode !== null) done();
    else {
      child.once('exit', done);
      child.kill('SIGTERM');
    }
  });
}

/** Whether a TLS server answers a handshake at 127.0.0.1:port (any certificate). */
function tlsAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
