import { startScheduledRun } from './schedule.js';
import type { RunService } from './service.js';

/**
 * Keeps a stored image set's schedule in step with the set: EventBridge Scheduler in the deployed
 * stack (aws/scheduler-sets.ts), timers in `ferry serve` (local/local-set-scheduler.ts).
 */
export interface SetScheduler {
  /** Creates or updates the set's schedule; `expression` undefined removes it (a set without one). */
  apply(name: string, expression: string | undefined): Promise<void>;
  /** Removes the set's schedule; nothing happens when it has none. */
  remove(name: string): Promise<void>;
}

/**
 * The schedule lock a set's scheduled runs share (no overlap: a run still in progress makes the
 * next fire skip). `set:` keeps it apart from the stack config's schedule names.
 */
export function setScheduleLock(name: string): string {
  return `set:${name}`;
}

/** The run a set's schedule starts: a run of the stored set. */
export function setScheduleRun(name: string): { imageSet: string } {
  return { imageSet: name };
}

/**
 * What each fire hands the scheduled-run function (handlers/events/scheduled-run.ts reads
 * `{schedule, run}`): the Scheduler target's input.
 */
export function setScheduleInput(name: string): { schedule: string; run: { imageSet: string } } {
  return { schedule: setScheduleLock(name), run: setScheduleRun(name) };
}

/** One fire of a set's schedule, as the scheduled-run Lambda does it: started, or skipped while the last run goes on. */
export function startSetRun(service: RunService, name: string): ReturnType<typeof startScheduledRun> {
  const { schedule, run } = setScheduleInput(name);
  return startScheduledRun(service, schedule, run);
}

/**
 * Scheduler's retry policy for a set's schedule (the config schedules' in infra/constructs/schedules.ts:
 * a stack test keeps the two equal).
 */
export const setScheduleRetryPolicy = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } as const;
