import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { cleanEnv, repoRoot } from './cli.js';

export interface ServeProcess {
  /** What the server printed: `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly child: ChildProcess;
  /** What it said on stderr up to its listening line. */
  readonly stderr: string;
  /** Sends `signal` (SIGTERM by default) and resolves once the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real `ferry serve` command (a child process, `--port 0`) and resolves once it listens. */
export function startServeProcess(
  args: readonly string[] = [],
  env: NodeJS.ProcessEnv = cleanEnv(),
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ferry.js'), 'serve', '--port', '0', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null)
        return resolve({ code: child.exitCode, signal: child.signalCode });
      child.once('exit', (code, by) => resolve({ code, signal: by }));
      child.kill(signal);
    });
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /listening on (http:\/\/\S+)/.exec(stderr)?.[1];
      if (url) resolve({ url, child, stderr, stop });
    });
    child.once('exit', (code) => reject(new Error(`ferry serve exited ${code}: ${stderr}`)));
  });
}
