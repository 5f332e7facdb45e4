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

/** Who hears that a copy waits for a pull budget: the image being copied (its run item's message). */
export type PullWaitListener = (wait: PullWait) => void;

const listeners = new AsyncLocalStorage<PullWaitListener>();

/**
 * Runs `copy` with `listener` told of every pull-budget wait the copy's own requests make (the
 * service puts "waiting for docker.io pull budget: …" on the image). A context, not a parameter:
 * the wait happens four layers down, in the registry client, which knows no images.
 */
export function withPullWaitListener<T>(listener: PullWaitListener, copy: () => Promise<T>): Promise<T> {
  return listeners.run(listener, copy);
}

/** The listener of the copy this code runs for, if any. */
export function currentPullWaitListener(): PullWaitListener | undefined {
  return listeners.getStore();
}
