import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { CliResult } from './cli.js';
import { registryAuthConfig, registryConfig } from './registry-process.js';

/**
 * A network namespace with loopback only (`unshare -n`, root): anything inside that looks up a
 * public name or dials a public address fails at once, so tests may aim Ferry at "docker.io" or
 * at names only a proxy can resolve without a packet leaving the machine. Processes run inside
 * with `nsenter`; {@link Namespace.close} kills every one of them by pid.
 */
export interface Namespace {
  /** A scratch directory (removed by close). */
  readonly dir: string;
  /** Starts a long-running process inside (output to a log file in `dir`); killed by close. */
  spawn(command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv; log?: string }): ChildProcess;
  /** Runs a command inside to completion. */
  run(command: string, args: readonly string[], options?: { env?: NodeJS.ProcessEnv }): Promise<CliResult>;
  /** Waits until something accepts TCP connections on host:port (127.0.0.1 unless told) inside the namespace. */
  waitForPort(port: number, host?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startNamespace(): Promise<Namespace> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-netns-'));
  // unshare and bash exec: the holder's pid is the namespace's first process.
  const holder = spawn('unshare', ['-n', 'bash', '-c', 'ip link set lo up && echo up && exec sleep infinity'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const children = new Set<ChildProcess>();
  await new Promise<void>((resolve, reject) => {
    let err = '';
    holder.stderr.on('data', (d: Buffer) => (err += d.toString()));
    holder.stdout.once('data', () => resolve());
    holder.once('exit', (code) =>
      reject(new Error(`unshare -n failed (${code}): ${err} (the namespace tests need root)`)),
    );
  });
  const pid = String(holder.pid);
  const enter = (command: string, args: readonly string[]): [string, string[]] => [
    'nsenter',
    ['-t', pid, '-n', command, ...args],
  ];

  const namespace: Namespace = {
    dir,
    spawn(command, args, options = {}) {
      const log = openSync(join(dir, options.log ?? `${command.replace(/\W/g, '_')}-${children.size}.log`), 'a');
      const [bin, argv] = enter(command, args);
      const child = spawn(bin, argv, { env: options.env ?? process.env, stdio: ['ignore', log, log] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    run(command, args, options = {}) {
      const [bin, argv] = enter(command, args);
      return new Promise((resolve) => {
        const child = spawn(bin, argv, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
        children.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => {
          children.delete(child);
          resolve({ code: code ?? -1, stdout, stderr });
        });
      });
    },
    async waitForPort(port, host = '127.0.0.1') {
      // One process polls (bounded), rather than a process per attempt.
      const probe = `const net=require('net');let n=0;(function t(){const s=net.connect(${port},${JSON.stringify(host)},()=>{s.destroy();process.exit(0)});s.on('error',()=>{if(++n>400)process.exit(1);setTimeout(t,25)})})()`;
      const result = await namespace.run(process.execPath, ['-e', probe]);
      if (result.code !== 0) throw new Error(`nothing listens on ${host}:${port} in the namespace`);
    },
    async close() {
      const all = [...children];
      await Promise.all(
        all.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGKILL');
            }),
        ),
      );
      await new Promise<void>((resolve) => {
        if (holder.exitCode !== null || holder.signalCode !== null) return resolve();
        holder.once('exit', () => resolve());
        holder.kill('SIGKILL');
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return namespace;
}

/** Starts a `docker-registry` on 127.0.0.1:port inside the namespace (TLS with `tls`, Basic auth with `users`). */
export async function startNamespaceRegistry(
  ns: Namespace,
  name: string,
  port: number,
  tls?: { certFile: string; keyFile: string },
  users: Record<string, string> = {},
): Promise<void> {
  const dir = join(ns.dir, name);
  execFileSync('mkdir', ['-p', dir]);
  const auth = Object.keys(users).length > 0 ? registryAuthConfig(dir, { kind: 'htpasswd', users }) : undefined;
  const config = registryConfig(dir, port, tls, auth);
  writeFileSync(join(dir, 'config.yml'), stringify(config));
  ns.spawn('docker-registry', ['serve', join(dir, 'config.yml')], { log: `registry-${name}.log` });
  await ns.waitForPort(port);
}

/** A log file a namespace process wrote (empty if none yet). */
export function readLog(ns: Namespace, name: string): string {
  try {
    return readFileSync(join(ns.dir, name), 'utf8');
  } catch {
    return '';
  }
}
