import { z } from 'zod';
import type { CopyImageResult, RunTasks } from '../../runs/tasks.js';
import type { RunStatus } from '../../runs/model.js';

/**
 * The Step Functions side of a run's tasks (the deployed state machine, and `ferry serve`'s
 * local run of the same definition): the task inputs, the Plan output the Choice and Map states
 * read, and the Catch envelope of a failed task. The use cases (RunTasks) take plain values.
 */

/** Runs with more images than this use the Distributed Map (by default; see WorkflowTasksOptions). */
export const distributedThreshold = 200;

/** A Catch envelope: what Step Functions puts at a Catch's ResultPath. */
const errorEnvelope = z.object({ Error: z.string().optional(), Cause: z.string().optional() });
/** Input of Plan: the execution's input. */
export const runInput = z.object({ runId: z.string() });
/** Input of Finish, and of FinishFailed: the same plus Finish's Catch envelope. */
export const finishInput = runInput.extend({ finishError: errorEnvelope.optional() });
/** Input of CopyImage: one Map item (`failFast` and the rest of the item are not needed here). */
export const imageInput = z.object({ runId: z.string(), index: z.number().int().nonnegative() });
/** Input of RecordFailure: the Map item, the Catch envelope at `$.error`, CopyImage's Lambda limits. */
export const failureInput = imageInput.extend({
  error: errorEnvelope.optional(),
  limits: z.object({ timeoutSeconds: z.number().positive(), memoryMB: z.number().positive() }).optional(),
});

/**
 * What Plan returns at `$.plan`: the Proceed Choice reads `proceed` and `distributed`, the Maps
 * `indexes`, the Distributed Map `toleratedFailurePercentage` (0 for failFast: its first failed
 * child ends the Map Run; 100 otherwise).
 */
export interface PlanOutput {
  runId: string;
  proceed: boolean;
  indexes: number[];
  failFast: boolean;
  distributed: boolean;
  toleratedFailurePercentage: 0 | 100;
}

export interface WorkflowTasksOptions {
  /** Runs with more images than this take the Distributed Map (default {@link distributedThreshold}; tests lower it). */
  readonly distributedThreshold?: number;
}

/** The task names (each function's FERRY_TASK) with their handlers. */
export type WorkflowTaskName = 'plan' | 'copyImage' | 'recordFailure' | 'finish';

/** One method per Task state of the definition, named as the task (FERRY_TASK). */
export class WorkflowTasks {
  readonly #tasks: RunTasks;
  readonly #distributedThreshold: number;

  constructor(tasks: RunTasks, options: WorkflowTasksOptions = {}) {
    this.#tasks = tasks;
    this.#distributedThreshold = options.distributedThreshold ?? distributedThreshold;
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
      distributed: found.indexes.length > this.#distributedThreshold,
      toleratedFailurePercentage: found.failFast ? 0 : 100,
    };
  }

  /** One Map iteration. Retryable errors are thrown with their name for the state's Retry. */
  async copyImage(input: unknown): Promise<CopyImageResult> {
    const { runId, index } = imageInput.parse(input);
    return this.#tasks.copyImage(runId, index);
  }

  /** The Catch of CopyImage, after the Retry gave up (or the `continue` guard): the reason comes from the error envelope. */
  async recordFailure(input: unknown): Promise<{ status: 'failed' }> {
    const { runId, index, error, limits } = failureInput.parse(input);
    const cause = causeMessage(error?.Cause);
    return this.#tasks.recordFailure(runId, index, {
      ...(error?.Error === undefined ? {} : { error: error.Error }),
      ...(cause === undefined ? {} : { cause }),
      ...(limits === undefined ? {} : { limits }),
    });
  }

  /**
   * The Finish state; and FinishFailed, its Catch (the same function, given Finish's error): that
   * only marks the run failed naming the cause.
   */
  async finish(input: unknown): Promise<{ status: RunStatus | 'missing' }> {
    const { runId, finishError } = finishInput.parse(input);
    if (finishError === undefined) return this.#tasks.finish(runId);
    const cause = causeMessage(finishError.Cause);
    const name = finishError.Error ?? 'Finish failed';
    return this.#tasks.finishFailed(runId, cause === undefined || cause === name ? name : `${name}: ${cause}`);
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
