import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../oci/log.js';
import type { WorkflowStarter } from '../runs/ports.js';
import type { RunOptions } from 'aws-local-stepfunctions';
import { LocalMapStops } from './local-map-stops.js';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22); Node 20 lacks it.
const promiseWithResolvers = Promise as unknown as { withResolvers?: unknown };
promiseWithResolvers.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const { StateMachine } = await import('aws-local-stepfunctions');
type Handlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JSONValue = Parameters<Handlers[string]>[0];

type TaskHandler = (input: unknown) => Promise<unknown>;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface LocalWorkflowOptions {
  /** Path of the ASL extracted from the synthesized stack (dist/workflow.asl.json). */
  readonly definitionFile: string;
  /** Task name (the function's FERRY_TASK) → handler. */
  readonly tasks: Record<string, TaskHandler>;
  readonly logger: Logger;
  /** Overrides every Retry interval (tests); the definition's intervals otherwise. */
  readonly retryIntervalMs?: number;
  /** Overrides every Map's MaxConcurrency (tests: one image at a time); the definition's otherwise. */
  readonly mapConcurrency?: number;
  /**
   * How long one task invocation may run before the state fails with States.Timeout, as a
   * Lambda's timeout ends an invocation (default 900 s, Lambda's limit; the interpreter's own
   * default, 60 s, would cut a long copy short).
   */
  readonly taskTimeoutSeconds?: number;
}

/**
 * Runs the deployed state machine definition in-process with aws-local-stepfunctions; each
 * Lambda task calls the same handler code the deployed function runs.
 */
export class LocalWorkflow implements WorkflowStarter {
  readonly #machine: InstanceType<typeof StateMachine>;
  readonly #overrides: Record<string, (input: JSONValue) => Promise<JSONValue>>;
  readonly #retryOverrides: Record<string, number>;
  readonly #logger: Logger;
  readonly #running = new Map<string, { abort: () => void; result: Promise<unknown> }>();
  /** Task invocations under way: an aborted execution (cancel, failFast) leaves them running, as Lambda does. */
  readonly #tasks = new Set<Promise<unknown>>();
  /** Map semantics the interpreter lacks (see local-map-stops.ts). */
  readonly #mapStops = new LocalMapStops();

  constructor(options: LocalWorkflowOptions) {
    const definition = JSON.parse(readFileSync(options.definitionFile, 'utf8')) as Json;
    if (options.mapConcurrency !== undefined) setMapConcurrency(definition, options.mapConcurrency);
    this.#overrides = {};
    this.#retryOverrides = {};
    for (const [stateName, resource, state] of taskStates(definition)) {
      if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined)
        state.TimeoutSeconds = options.taskTimeoutSeconds ?? lambdaTimeoutSeconds;
      const task = /function:ferry-([A-Za-z]+)$/.exec(resource)?.[1];
      const handler = task === undefined ? undefined : options.tasks[task];
      if (!handler) throw new Error(`no local handler for task state ${stateName} (${resource})`);
      // Task outputs are plain JSON values (the handlers return records of strings, numbers, arrays).
      this.#overrides[stateName] = (input) => this.#track(handler(input) as Promise<JSONValue>);
      if (options.retryIntervalMs !== undefined) this.#retryOverrides[stateName] = options.retryIntervalMs;
    }
    const wrapped = this.#mapStops.wrap(definition);
    Object.assign(this.#overrides, wrapped.handlers);
    this.#machine = new StateMachine(wrapped.definition as never, {
      validationOptions: { checkPaths: true, checkArn: false },
    });
    this.#logger = options.logger;
  }

  start(runId: string): Promise<string> {
    const executionId = `local:${runId}:${randomUUID()}`;
    const execution = this.#machine.run(
      { runId },
      {
        overrides: { taskResourceLocalHandlers: this.#overrides, retryIntervalOverrides: this.#retryOverrides },
        // The wrapped Maps key their stops by it (local-map-stops.ts).
        context: { Execution: { Id: executionId } },
      },
    );
    const result = execution.result
      .then(
        (output: unknown) => output,
        (err: unknown) =>
          this.#logger.warn('local execution ended with an error', {
            runId,
            error: err instanceof Error ? err.message : String(err),
          }),
      )
      .finally(() => this.#running.delete(executionId));
    this.#running.set(executionId, { abort: () => execution.abort(), result });
    return Promise.resolve(executionId);
  }

  stop(executionId: string): Promise<void> {
    this.#running.get(executionId)?.abort();
    return Promise.resolve();
  }

  /** Waits for every running execution and every task invocation still under way. */
  async drain(): Promise<void> {
    while (this.#running.size > 0 || this.#tasks.size > 0) {
      await Promise.all([
        ...[...this.#running.values()].map((r) => r.result),
        ...[...this.#tasks].map((t) => t.catch(() => undefined)),
      ]);
    }
  }

  #track<T>(task: Promise<T>): Promise<T> {
    this.#tasks.add(task);
    void task.catch(() => undefined).finally(() => this.#tasks.delete(task));
    return task;
  }
}

/** The longest a Lambda invocation may run. */
const lambdaTimeoutSeconds = 900;

/** Every Task state (including inside Map item processors) with its Resource. */
function taskStates(definition: Json): [string, string, { [key: string]: Json }][] {
  const found: [string, string, { [key: string]: Json }][] = [];
  const walk = (states: Json): void => {
    if (!states || typeof states !== 'object' || Array.isArray(states)) return;
    for (const [name, state] of Object.entries(states)) {
      if (!state || typeof state !== 'object' || Array.isArray(state)) continue;
      if (state.Type === 'Task' && typeof state.Resource === 'string') found.push([name, state.Resource, state]);
      for (const nested of [state.ItemProcessor, state.Iterator]) {
        if (nested && typeof nested === 'object' && !Array.isArray(nested)) walk(nested.States ?? null);
      }
      if (Array.isArray(state.Branches))
        for (const b of state.Branches) if (b && typeof b === 'object' && !Array.isArray(b)) walk(b.States ?? null);
    }
  };
  if (definition && typeof definition === 'object' && !Array.isArray(definition)) walk(definition.States ?? null);
  return found;
}

/** Sets every Map's MaxConcurrency, nested ones included. */
function setMapConcurrency(value: Json, concurrency: number): void {
  if (!value || typeof value !== 'object') return;
  if (Array.isArray(value)) return value.forEach((v) => setMapConcurrency(v, concurrency));
  if (value.Type === 'Map') value.MaxConcurrency = concurrency;
  Object.values(value).forEach((v) => setMapConcurrency(v, concurrency));
}

/** How many images the definition copies at once: the largest MaxConcurrency of its Map states (1 without one). */
export function mapConcurrency(definitionFile: string): number {
  let found = 1;
  const walk = (value: Json): void => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach(walk);
      return;
    }
    if (value.Type === 'Map' && typeof value.MaxConcurrency === 'number') found = Math.max(found, value.MaxConcurrency);
    Object.values(value).forEach(walk);
  };
  walk(JSON.parse(readFileSync(definitionFile, 'utf8')) as Json);
  return found;
}
