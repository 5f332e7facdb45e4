import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../oci/errors.js';

/** What holds a `--data-dir` for this process; `release` is idempotent. */
export interface DataDirLock {
  release(): void;
}

/**
 * Takes `<dir>/ferry-serve.lock` for this process: the embedded DynamoDB's files must have one
 * writer. The lock names its process (`pid boot-id`); a lock whose process no longer runs
 * (killed, `kill -9`) or that was taken before the machine restarted (its pid may now be
 * another program's) is taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, 'ferry-serve.lock');
  const boot = bootId();
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}${boot === undefined ? '' : ` ${boot}`}\n`, { flag: 'wx' });
      let held = true;
      return {
        release: () => {
          if (held) rmSync(file, { force: true });
          held = false;
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = readHolder(file);
      const alive =
        holder !== undefined &&
        holder.pid !== process.pid &&
        (holder.boot === undefined || holder.boot === boot) &&
        isRunning(holder.pid);
      if (alive || attempt >= 2) {
        throw new UsageError(
          `--data-dir ${dir} is in use by another ferry serve (pid ${holder?.pid ?? 'unknown'}); stop it or choose another directory`,
        );
      }
      // Stale: its process is gone. Removed only while it is still the lock read, so that of two
      // servers taking it over at once, the second does not remove the first's fresh lock.
      if (holder === undefined || readHolder(file)?.text === holder.text) rmSync(file, { force: true });
    }
  }
}

function readHolder(file: string): { pid: number; boot: string | undefined; text: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // removed meanwhile
  }
  const [pidText, boot] = text.trim().split(/\s+/);
  const pid = Number.parseInt(pidText ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? { pid, boot, text } : undefined;
}

/** This boot of the machine (Linux); undefined elsewhere, where only the pid is checked. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
