import { type RunService, ScheduleBusyError } from './service.js';

/**
 * Starts a schedule's run, unless the schedule's previous run is still in progress (overlapping-run
 * protection): the run store holds one lock per schedule, taken over only from a finished run.
 */
export async function startScheduledRun(
  service: RunService,
  schedule: string,
  body: string,
): Promise<{ started: boolean; runId?: string; skippedBecause?: string }> {
  try {
    const { view } = await service.startRun(body, { schedule });
    return { started: true, runId: view.runId };
  } catch (err) {
    if (err instanceof ScheduleBusyError) return { started: false, skippedBecause: err.message };
    throw err;
  }
}
