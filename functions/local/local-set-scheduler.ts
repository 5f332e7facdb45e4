import { silentLogger, type Logger } from '../oci/log.js';
import type { ImageSetStore } from '../runs/image-set-store.js';
import { nextFire, parseScheduleExpression, type ScheduleExpression } from '../runs/schedule-expression.js';
import type { SetScheduler } from '../runs/set-scheduler.js';

/** Time and timers, injected so that tests fire schedules without waiting. */
export interface SchedulerClock {
  now(): Date;
  /** Calls `fn` once after `ms`; the result cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** The process's clock; timers do not keep the process alive (the HTTP server does). */
export const systemClock: SchedulerClock = {
  now: () => new Date(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

/** setTimeout's longest delay: a longer one fires at once. Farther fires wait in hops of this. */
const maxTimerMs = 2 ** 31 - 1;

interface Armed {
  readonly expression: ScheduleExpression;
  /** When a rate schedule counts from. */
  readonly anchor: Date;
  cancel: () => void;
}

export interface LocalSetSchedulerOptions {
  /** One fire: starts the set's run (overlap-protected by the caller: startSetRun). */
  readonly start: (name: string) => Promise<unknown>;
  readonly clock?: SchedulerClock;
  readonly logger?: Logger;
}

/**
 * `ferry serve`'s image-set schedules: one timer per set with a schedule, set for its next fire
 * (a rate counts from when it was applied, a cron fires on matching UTC minutes), armed again
 * after each fire. The deployed stack does the same with EventBridge Scheduler.
 */
export class LocalSetScheduler implements SetScheduler {
  readonly #armed = new Map<string, Armed>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #start: (name: string) => Promise<unknown>;
  readonly #clock: SchedulerClock;
  readonly #logger: Logger;
  #closed = false;

  constructor(options: LocalSetSchedulerOptions) {
    this.#start = options.start;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  async apply(name: string, expression: string | undefined): Promise<void> {
    if (expression === undefined) return this.remove(name);
    this.#arm(name, expression, this.#clock.now());
  }

  async remove(name: string): Promise<void> {
    this.#armed.get(name)?.cancel();
    this.#armed.delete(name);
  }

  /** Arms every stored set that has a schedule (all pages); a rate counts from the set's last write. */
  async armStored(store: Pick<ImageSetStore, 'listImageSets'>): Promise<number> {
    let armed = 0;
    let token: string | undefined;
    do {
      const page = await store.listImageSets(100, token);
      for (const set of page.items) {
        if (set.schedule === undefined) continue;
        const applied = new Date(set.updatedAt);
        this.#arm(set.name, set.schedule, Number.isNaN(applied.getTime()) ? this.#clock.now() : applied);
        armed++;
      }
      token = page.nextToken;
    } while (token !== undefined);
    return armed;
  }

  /** Names with a timer armed (tests, logs). */
  scheduled(): string[] {
    return [...this.#armed.keys()].sort();
  }

  /** Resolves once the runs started by fires so far have been started (or refused). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  /** Cancels every timer; nothing fires afterwards. */
  close(): void {
    this.#closed = true;
    for (const armed of this.#armed.values()) armed.cancel();
    this.#armed.clear();
  }

  #arm(name: string, text: string, anchor: Date): void {
    const parsed = parseScheduleExpression(text);
    this.#armed.get(name)?.cancel();
    this.#armed.delete(name);
    if ('problem' in parsed) {
      // Only a set stored before this check existed could hold one: say so, keep serving.
      this.#logger.warn('image set schedule ignored', { imageSet: name, problem: parsed.problem });
      return;
    }
    const armed: Armed = { expression: parsed.expression, anchor, cancel: () => {} };
    this.#armed.set(name, armed);
    this.#wait(name, armed, this.#clock.now());
  }

  /** Sets the timer for the first fire after `after`. */
  #wait(name: string, armed: Armed, after: Date): void {
    if (this.#closed) return;
    const due = nextFire(armed.expression, after, armed.anchor);
    if (due === undefined) {
      this.#armed.delete(name);
      return;
    }
    const delay = Math.max(0, due.getTime() - this.#clock.now().getTime());
    if (delay > maxTimerMs) {
      armed.cancel = this.#clock.setTimer(() => this.#wait(name, armed, after), maxTimerMs);
      return;
    }
    armed.cancel = this.#clock.setTimer(() => {
      // A timer may run a little early: the next fire is counted from `due`, never before it.
      const now = this.#clock.now();
      this.#fire(name);
      this.#wait(name, armed, now > due ? now : due);
    }, delay);
  }

  #fire(name: string): void {
    const started = this.#start(name).then(
      (result) => this.#logger.info('scheduled run of image set', { imageSet: name, result }),
      (err: unknown) => this.#logger.warn('scheduled run of image set failed', { imageSet: name, error: String(err) }),
    );
    const tracked = started.finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }
}
