import { RunCancelledError } from './errors.js';

/** The message of an image a cancel finalised (status `failed`): before it started, or while it copied. */
export const cancelledMessage = 'cancelled';

/**
 * Cancel signals of the runs this process copies: `ferry serve` runs the API and every copy in
 * one process, so cancel aborts the copies at once. (A Lambda also polls the run's status; see
 * RunTasks.copyImage.)
 */
export class RunCancellations {
  readonly #controllers = new Map<string, { controller: AbortController; users: number }>();

  /** The run's signal for one copy; `release` when the copy ends. */
  watch(runId: string): { signal: AbortSignal; release: () => void } {
    let entry = this.#controllers.get(runId);
    if (!entry) {
      entry = { controller: new AbortController(), users: 0 };
      this.#controllers.set(runId, entry);
    }
    entry.users++;
    const held = entry;
    let released = false;
    return {
      signal: held.controller.signal,
      release: () => {
        if (released) return;
        released = true;
        if (--held.users === 0 && this.#controllers.get(runId) === held) this.#controllers.delete(runId);
      },
    };
  }

  /** Aborts every copy of the run under way in this process. */
  cancel(runId: string): void {
    const entry = this.#controllers.get(runId);
    this.#controllers.delete(runId);
    entry?.controller.abort(new RunCancelledError(runId));
  }
}
