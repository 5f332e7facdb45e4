import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../oci/errors.js';

/** What holds a `--data-dir` for this process; `release` is idempotent. */
export interface DataDirLock {
  release(): void;
}

/**
 * Takes `<dir>/ferry-serve.lock` for this process: the embedded DynamoDB's files must have one
 * writer. A lock left by a process that no longer runs (killed) is taken over.
 */
export function lockDataDir(dir: string): DataDirLock {
  const file = join(dir, 'ferry-serve.lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      let held = true;
      return {
        release: () => {
          if (held) rmSync(file, { force: true });
          held = false;
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new UsageError(`--data-dir ${dir} is in use by another ferry serve (pid ${pid}); stop it or choose another directory`);
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
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
