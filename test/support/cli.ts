import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '..', '..');
const ferryBin = join(repoRoot, 'bin', 'ferry.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Variables a developer's shell may carry that would change where the CLI connects or what it reads. */
const inherited =
  /^(REGISTRY_AUTH_FILE|XDG_RUNTIME_DIR|XDG_CACHE_HOME|DOCKER_CONFIG|(HTTPS?|ALL|NO)_PROXY|FERRY_[A-Z_]+)$/i;

/** A clean environment: an empty HOME so no real auth file (or blob cache) is read; no proxy, no FERRY_* settings; no AWS reach. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), 'ferry-home-'));
  const rest = Object.fromEntries(Object.entries(process.env).filter(([name]) => !inherited.test(name)));
  return { ...rest, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true', ...extra };
}

/** Runs the built `ferry` CLI (as `npx ferry` would) and collects its output; in `cwd` when given. */
export function runFerry(args: string[], env: NodeJS.ProcessEnv = cleanEnv(), cwd?: string): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [ferryBin, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd === undefined ? {} : { cwd }),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}

/** The digest of the manifest as skopeo (an independent client) reads it. */
export function skopeoDigest(reference: string, creds?: string): Promise<string> {
  const args = [
    'inspect',
    '--raw',
    '--tls-verify=false',
    ...(creds ? ['--creds', creds] : []),
    `docker://${reference}`,
  ];
  return new Promise((resolvePromise, reject) => {
    execFile('skopeo', args, { encoding: 'buffer', maxBuffer: 16 << 20, env: cleanEnv() }, (err, stdout, stderr) => {
      if (err) reject(new Error(`skopeo ${args.join(' ')}: ${stderr.toString()}`));
      else resolvePromise(`sha256:${createHash('sha256').update(stdout).digest('hex')}`);
    });
  });
}

/** One `--json` result line of `ferry mirror` / `ferry copy`. */
export interface JsonLine {
  source: string;
  destination: string;
  status: string;
  kind?: string;
  digest?: string;
  error?: string;
}

/** The `--json` lines of a run's stdout, parsed (blank lines skipped). */
export function jsonLines(stdout: string): JsonLine[] {
  return stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as JsonLine);
}
