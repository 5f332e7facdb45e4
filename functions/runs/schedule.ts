import { ScheduleBusyError } from './errors.js';
import type { RunService } from './service.js';

/**
 * Starts a schedule's run, unless the schedule's previous run is still in progress (overlapping-run
 * protection): the run store holds one lock per schedule, taken over only from a finished run.
 * `run` is the schedule's run request as a value (the Scheduler target's input).
 */
export async function startScheduledRun(
  service: RunService,
  schedule: string,
  run: unknown,
): Promise<{ started: boolean; runId?: string; skippedBecause?: string }> {
  try {
    const { view } = await service.startRun(run, { schedule });
    return { started: true, runId: view.runId };
  } catch (err) {
    if (err instanceof ScheduleBusyError) return { started: false, skippedBecause: err.message };
    throw err;
  }
}
