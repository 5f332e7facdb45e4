import { AsyncLocalStorage } from 'node:async_hooks';

/** A copy waiting for an upstream's window: what the CLI prints and the service puts on the image. */
export interface PullWait {
  readonly registry: string;
  readonly repository: string;
  readonly remaining: number;
  readonly limit: number;
  readonly resetInMs: number;
  /** "waiting for docker.io pull budget: 0 left, resets in 5h 59m" */
  readonly message: string;
}

/**
 * What one copy brings to its pull-budget waits: who hears of them (the service puts "waiting for
 * docker.io pull budget: …" on the image) and how long it may wait (its task's time left, less
 * what it needs to copy after): a longer wait fails at once with a PullBudgetError.
 */
export interface PullWaitScope {
  readonly onWait?: (wait: PullWait) => void;
  readonly remainingMs?: () => number;
}

const scopes = new AsyncLocalStorage<PullWaitScope>();

/**
 * Runs `copy` in `scope`: every pull-budget wait the copy's own requests make sees it. A context,
 * not a parameter: the wait happens four layers down, in the registry client, which knows no images.
 */
export function withPullWaitScope<T>(scope: PullWaitScope, copy: () => Promise<T>): Promise<T> {
  return scopes.run(scope, copy);
}

/** The scope of the copy this code runs for, if any. */
export function currentPullWaitScope(): PullWaitScope | undefined {
  return scopes.getStore();
}
