import { z } from 'zod';
import type { CopyImageResult, RunTasks } from '../../runs/tasks.js';
import type { RunStatus } from '../../runs/model.js';

/**
 * The Step Functions side of a run's tasks (the deployed state machine, and `ferry serve`'s
 * local run of the same definition): the task inputs, the Plan output the Choice and Map states
 * read, and the Catch envelope of a failed task. The use cases (RunTasks) take plain values.
 */

/** Runs with more images than this use the Distributed Map. */
export const distributedThreshold = 200;

/** Input of Plan and Finish: the execution's input. */
export const runInput = z.object({ runId: z.string() });
/** Input of CopyImage: one Map item (`failFast` and the rest of the item are not needed here). */
export const imageInput = z.object({ runId: z.string(), index: z.number().int().nonnegative() });
/** Input of RecordFailure: the Map item plus the Catch envelope at `$.error`. */
export const failureInput = imageInput.extend({
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

/** What Plan returns at `$.plan`: the Proceed Choice reads `proceed` and `distributed`, the Maps `indexes`. */
export interface PlanOutput {
  runId: string;
  proceed: boolean;
  indexes: number[];
  failFast: boolean;
  distributed: boolean;
}

/** The task names (each function's FERRY_TASK) with their handlers. */
export type WorkflowTaskName = 'plan' | 'copyImage' | 'recordFailure' | 'finish';

/** One method per Task state of the definition, named as the task (FERRY_TASK). */
export class WorkflowTasks {
  readonly #tasks: RunTasks;

  constructor(tasks: RunTasks) {
    this.#tasks = tasks;
  }

  /** The Plan state: the run's preflight, with the Map the Choice state should take. */
  async plan(input: unknown): Promise<PlanOutput> {
    const { runId } = runInput.parse(input);
    const found = await this.#tasks.preflight(runId);
    return {
      runId,
      proceed: found.proceed,
      indexes: [...found.indexes],
      failFast: found.failFast,
      distributed: found.indexes.length > distributedThreshold,
    };
  }

  /** One Map iteration. Retryable errors are thrown with their name for the state's Retry. */
  async copyImage(input: unknown): Promise<CopyImageResult> {
    const { runId, index } = imageInput.parse(input);
    return this.#tasks.copyImage(runId, index);
  }

  /** The Catch of CopyImage, after the Retry gave up: the reason comes from the error envelope. */
  async recordFailure(input: unknown): Promise<{ status: 'failed' }> {
    const { runId, index, error } = failureInput.parse(input);
    return this.#tasks.recordFailure(runId, index, causeMessage(error?.Cause) ?? error?.Error ?? 'failed');
  }

  /** The Finish state. */
  async finish(input: unknown): Promise<{ status: RunStatus | 'missing' }> {
    const { runId } = runInput.parse(input);
    return this.#tasks.finish(runId);
  }

  /** Every task by name, for a runtime that dispatches on FERRY_TASK (the local workflow). */
  handlers(): Record<WorkflowTaskName, (input: unknown) => Promise<unknown>> {
    return {
      plan: (input) => this.plan(input),
      copyImage: (input) => this.copyImage(input),
      recordFailure: (input) => this.recordFailure(input),
      finish: (input) => this.finish(input),
    };
  }
}

/**
 * The message inside a Catch envelope's Cause: Lambda's Cause is JSON `{errorType,
 * errorMessage}`; the local interpreter's is the message itself.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined) return undefined;
  try {
    const parsed = z.object({ errorMessage: z.string() }).safeParse(JSON.parse(cause));
    return parsed.success ? parsed.data.errorMessage : cause;
  } catch {
    return cause;
  }
}
