import { describeError, PullBudgetError } from '../oci/errors.js';
import { silentLogger, type Logger } from '../oci/log.js';
import type { PullGate, PullKey, PullRequest } from '../oci/pull-gate.js';
import { parseImageReference } from '../oci/reference.js';
import type { RateLimitReading } from '../oci/rate-limit.js';
import { type Clock, systemClock } from '../oci/retry.js';
import {
  budgetKey,
  type BudgetState,
  type PullBudgetStore,
  recordReading,
  recordRefusal,
  takePull,
} from './pull-budget-state.js';
import { currentPullWaitScope, type PullWait } from './pull-wait-scope.js';

export type { PullWait } from './pull-wait-scope.js';

export interface PullBudgetOptions {
  readonly store: PullBudgetStore;
  readonly clock?: Clock;
  /** Pulls kept back: copies wait once `remaining ≤ reserve` (default 0: spend the budget to the last pull). */
  readonly reserve?: number;
  /**
   * The longest a copy may wait for a window, now (default: no limit — the CLI waits). The service
   * passes what its task may still run: a longer wait fails the image with a PullBudgetError.
   */
  readonly maxWaitMs?: () => number;
  /** Called once per wait (per budget and window end), before the copy sleeps. */
  readonly onWait?: (wait: PullWait) => void;
  readonly logger?: Logger;
}

/** How often a pull waiting for another's probe looks again (a probe elsewhere cannot wake it). */
const probePollMs = 1_000;
/** Conflicting writes in a row before a spender gives up on the store (never reached but by a broken store). */
const maxConflicts = 100;
/** After a few conflicts in a row, spenders step back up to this long (jittered) so that one of them wins. */
const conflictBackoffMs = 20;

/**
 * The pull budget of upstream registries, per registry and identity: a manifest GET spends a
 * pull before it is sent, so concurrent copies (and Lambdas, through the run table) never spend
 * the same last pull; each response's `ratelimit-*` headers correct the count. While the budget
 * is at the reserve, copies wait for the window's end instead of collecting 429s.
 *
 * WARNING: before a registry's first answer nothing is known, so the first GETs of a run go
 * unmetered; pulls of this process still unanswered are taken off that first reading, but in the
 * service another Lambda's are not (at most the Map's concurrency of GETs). Taking them off errs
 * low: the registry may have counted some already, so the count Ferry keeps for that window can
 * be under the registry's by up to the GETs that were in flight — never over it.
 */
export class PullBudget implements PullGate {
  readonly #store: PullBudgetStore;
  readonly #clock: Clock;
  readonly #reserve: number;
  readonly #maxWaitMs: () => number;
  readonly #onWait: (wait: PullWait) => void;
  readonly #logger: Logger;
  /** Pulls sent and not yet answered, per budget. */
  readonly #inFlight = new Map<string, number>();
  /** Waiters of this process, woken when a reading of their budget arrives. */
  readonly #waiters = new Map<string, Set<() => void>>();
  /** The last wait reported per budget: one notice per window end, not one per copy. */
  readonly #reported = new Map<string, number>();
  /** Budgets whose registry answered its last manifest GET with no limit: not looked up until one comes. */
  readonly #unmetered = new Set<string>();
  /** The identity each registry was last pulled with. */
  readonly #seen = new Map<string, PullKey>();

  constructor(options: PullBudgetOptions) {
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#reserve = options.reserve ?? 0;
    this.#maxWaitMs = options.maxWaitMs ?? (() => Number.POSITIVE_INFINITY);
    this.#onWait = options.onWait ?? (() => {});
    this.#logger = options.logger ?? silentLogger;
  }

  async acquire(pull: PullRequest, signal?: AbortSignal): Promise<void> {
    const id = budgetKey(pull);
    this.#seen.set(pull.registry, { registry: pull.registry, identity: pull.identity });
    // Most registries send no limit (ECR, a paid Docker Hub account): one look at the store is enough.
    if (this.#unmetered.has(id)) {
      this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
      return;
    }
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      const decision = await this.#change(pull, (state) => {
        const taken = takePull(state, now, this.#reserve);
        return { next: taken.kind === 'go' ? taken.next : undefined, result: taken };
      });
      if (decision.kind === 'go') {
        this.#inFlight.set(id, (this.#inFlight.get(id) ?? 0) + 1);
        return;
      }
      const waitMs = decision.until - now;
      const scope = currentPullWaitScope();
      const maxWaitMs = Math.min(this.#maxWaitMs(), scope?.remainingMs?.() ?? Number.POSITIVE_INFINITY);
      if (waitMs > maxWaitMs) throw this.#tooLong(pull, decision.state, waitMs, maxWaitMs);
      if (decision.state.probing) {
        // Another pull is learning the new window's count: look again soon (or when it answers here).
        await this.#sleep(id, Math.min(waitMs, probePollMs), signal);
        continue;
      }
      const wait = describeWait(pull, decision.state, waitMs);
      // The copy this pull is for hears of every wait; the process (a CLI line, a log) once per window end.
      scope?.onWait?.(wait);
      if (this.#reported.get(id) !== decision.until) {
        this.#reported.set(id, decision.until);
        this.#onWait(wait);
      }
      await this.#sleep(id, waitMs, signal);
    }
  }

  async settle(pull: PullRequest, outcome: { status?: number; reading?: RateLimitReading }): Promise<void> {
    const id = budgetKey(pull);
    const others = Math.max(0, (this.#inFlight.get(id) ?? 1) - 1);
    if (others === 0) this.#inFlight.delete(id);
    else this.#inFlight.set(id, others);
    const { reading, status } = outcome;
    if (reading === undefined && status !== undefined && status < 300) this.#unmetered.add(id);
    if (reading !== undefined) this.#unmetered.delete(id);
    if (reading === undefined && status !== 429) return;
    const now = this.#clock.now();
    try {
      await this.#change(pull, (state) => ({
        next: reading ? recordReading(state, reading, now, others) : recordRefusal(state),
        result: undefined,
      }));
    } catch (err) {
      // The pull happened; a store that cannot record it only makes the budget less exact.
      this.#logger.warn('pull budget not recorded', { registry: pull.registry, error: describeError(err) });
    }
    for (const wake of this.#waiters.get(id) ?? []) wake();
  }

  /**
   * What this process last learnt of `registry`'s budget (for the identity it last pulled with),
   * while its window lasts: a dry run's summary. Undefined: unknown.
   */
  async known(registry: string): Promise<BudgetState | undefined> {
    const key = this.#seen.get(registry);
    const state = key === undefined ? undefined : (await this.#store.read(key))?.state;
    return state === undefined || state.probing || state.resetAt <= this.#clock.now() ? undefined : state;
  }

  #tooLong(pull: PullRequest, state: BudgetState, waitMs: number, maxWaitMs: number): PullBudgetError {
    const where = `${pull.registry}/${pull.repository}`;
    const budget = state.probing
      ? `${pull.registry} pull budget: a new window is being checked (up to ${formatDuration(waitMs)})`
      : `${pull.registry} pull budget spent (${state.remaining} of ${state.limit} left, resets in ${formatDuration(waitMs)})`;
    return new PullBudgetError(`${where}: ${budget}, longer than this copy may wait (${formatDuration(maxWaitMs)})`, {
      registry: pull.registry,
      repository: pull.repository,
    });
  }

  /** Reads, decides, and writes conditionally, again on a conflict. */
  async #change<T>(
    key: PullKey,
    decide: (state: BudgetState | undefined) => { next: BudgetState | undefined; result: T },
  ): Promise<T> {
    for (let conflicts = 0; ; conflicts++) {
      const stored = await this.#store.read(key);
      const { next, result } = decide(stored?.state);
      if (next === undefined || (await this.#store.write(key, next, stored?.version))) return result;
      if (conflicts >= 3) await this.#clock.sleep(Math.random() * conflictBackoffMs * Math.min(conflicts, 10));
      if (conflicts >= maxConflicts)
        throw new PullBudgetError(`${key.registry}: pull budget store kept refusing writes`, {
          registry: key.registry,
        });
    }
  }

  /** Sleeps `ms` on the clock; a reading of this budget in this process wakes it early. */
  async #sleep(id: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const woken = new AbortController();
    const wake = (): void => woken.abort();
    const waiters = this.#waiters.get(id) ?? new Set();
    this.#waiters.set(id, waiters.add(wake));
    try {
      await this.#clock.sleep(Math.max(0, ms), signal ? AbortSignal.any([signal, woken.signal]) : woken.signal);
    } catch (err) {
      if (signal?.aborted) throw err;
    } finally {
      waiters.delete(wake);
      if (waiters.size === 0) this.#waiters.delete(id);
    }
  }
}

function describeWait(pull: PullRequest, state: BudgetState, resetInMs: number): PullWait {
  return {
    registry: pull.registry,
    repository: pull.repository,
    remaining: state.remaining,
    limit: state.limit,
    resetInMs,
    message: `waiting for ${pull.registry} pull budget: ${state.remaining} left, resets in ${formatDuration(resetInMs)}`,
  };
}

/** `5h 59m`, `12m 5s`, `42s`: rounded down, since "resets in" must not promise early. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return 'no limit';
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours > 0) return `${hours}h ${minutes}m`;
  if (minutes > 0) return `${minutes}m ${seconds}s`;
  return `${seconds}s`;
}

/** `budget 76 left of 100 per 6h`, or `budget unknown`: what a dry run says of an upstream. */
export function describeBudget(known: Pick<BudgetState, 'remaining' | 'limit' | 'windowMs'> | undefined): string {
  return known === undefined
    ? 'budget unknown'
    : `budget ${known.remaining} left of ${known.limit} per ${formatWindow(known.windowMs)}`;
}

/** `6h`, `90m`, `1s`: a window as registries state it. */
function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

/** The registry a source reference pulls from, whose budget it spends; undefined for what is not a reference (a chart's URL). */
export function sourceRegistry(source: string): string | undefined {
  try {
    return parseImageReference(source).registry;
  } catch {
    return undefined;
  }
}
