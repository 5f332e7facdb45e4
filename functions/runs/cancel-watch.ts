import type { Repository } from '../oci/repository.js';
import type { RunCancellations } from './cancellation.js';
import { RunCancelledError } from './errors.js';
import type { RunStore } from './store.js';

/** One copy's view of its run's cancellation. */
export interface CancelWatch {
  /** Aborted once the run is cancelled: the copy engine stops streaming and pushes nothing more. */
  readonly signal: AbortSignal;
  /** Asks the run store now (before a push); throws when the run was cancelled, never because the store could not be read. */
  readonly checkpoint: () => Promise<void>;
  /** Ends the watch (the copy is over). */
  stop(): void;
}

/**
 * Watches a run for cancellation while one of its images copies: through this process's cancel
 * signals (`ferry serve`, at once), a periodic look at the run's status (a Lambda, which the
 * stopped execution does not stop), and checkpoints before every push.
 */
export function watchCancel(
  runId: string,
  deps: { store: RunStore; cancellations?: RunCancellations; pollMs: number },
): CancelWatch {
  const controller = new AbortController();
  const local = deps.cancellations?.watch(runId);
  const onLocal = (): void => controller.abort(local?.signal.reason);
  if (local?.signal.aborted) onLocal();
  else local?.signal.addEventListener('abort', onLocal, { once: true });
  const look = async (): Promise<void> => {
    if (controller.signal.aborted) return;
    const run = await deps.store.getRun(runId);
    if (run?.status === 'cancelled') controller.abort(new RunCancelledError(runId));
  };
  let looking = false;
  const timer = setInterval(() => {
    if (looking) return;
    looking = true;
    // A failed look is tried again at the next tick; the checkpoints still stand before every push.
    void look()
      .catch(() => undefined)
      .finally(() => (looking = false));
  }, deps.pollMs);
  timer.unref();
  return {
    signal: controller.signal,
    checkpoint: async () => {
      // A look that fails (a throttled or unreachable run store) is no reason to fail the image:
      // this push goes ahead, and the next checkpoint or poll decides. (Thrown on, a store error
      // is no Ferry error: the image would be recorded as failed for good.)
      await look().catch(() => undefined);
      controller.signal.throwIfAborted();
    },
    stop: () => {
      clearInterval(timer);
      local?.signal.removeEventListener('abort', onLocal);
      local?.release();
    },
  };
}

/** The repository with `checkpoint` awaited before each blob and manifest push. */
export function withCheckpoints(repository: Repository, checkpoint: () => Promise<void>): Repository {
  const putManifest: Repository['putManifest'] = async (...args) => {
    await checkpoint();
    return repository.putManifest(...args);
  };
  const writeBlob: Repository['writeBlob'] = async (...args) => {
    await checkpoint();
    return repository.writeBlob(...args);
  };
  return new Proxy(repository, {
    get(target, property) {
      if (property === 'putManifest') return putManifest;
      if (property === 'writeBlob') return writeBlob;
      const value: unknown = Reflect.get(target, property, target);
      // Bound to the repository itself: its #private fields are not the proxy's.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
