import type { PullKey } from '../oci/pull-gate.js';
import type { RateLimitReading } from '../oci/rate-limit.js';

/**
 * One upstream identity's pull budget as Ferry last knew it. Stored (the CLI's memory, the run
 * table) and changed only through {@link takePull} and {@link recordReading}, so every store
 * behaves the same way.
 */
export interface BudgetState {
  readonly limit: number;
  /** Pulls Ferry may still spend in this window (every pull it sent counted, answered or not). */
  readonly remaining: number;
  readonly windowMs: number;
  /** When the window ends (epoch ms); while probing, when the probe's lease ends. */
  readonly resetAt: number;
  /**
   * The window ended: one pull (the probe) went out to learn the new count, and its reading is
   * taken as it is. Docker Hub does not say when its window resets, and a window that slides
   * frees pulls one by one, so Ferry learns the new count instead of assuming a full budget.
   */
  readonly probing: boolean;
}

/** A stored state and its version (conditional writes: two spenders never both take the last pull). */
export interface VersionedBudget {
  readonly state: BudgetState;
  readonly version: number;
}

/**
 * Where budgets live: process memory (the CLI, `ferry serve`) or the run table (every Lambda of
 * the deployed service). A write names the version it read; a store refuses it when another
 * writer came first, and the caller reads again.
 */
export interface PullBudgetStore {
  read(key: PullKey): Promise<VersionedBudget | undefined>;
  /** Writes `state` if the stored version is still `version` (undefined: nothing stored); false when another write came first. */
  write(key: PullKey, state: BudgetState, version: number | undefined): Promise<boolean>;
}

/** How long a probe may take before another pull probes instead (a probe that never answered). */
export const probeLeaseMs = 30_000;
/** The window assumed when a registry gives neither `w=` nor a reset: short, so a wrong guess costs little. */
export const defaultWindowMs = 60_000;

/** What a pull may do now. */
export type TakeDecision =
  | { readonly kind: 'go'; readonly next?: BudgetState }
  | { readonly kind: 'wait'; readonly until: number; readonly state: BudgetState };

/**
 * Whether one more pull may go now, and the state after it: an unknown budget lets every pull go
 * (nothing to spend from yet); a known one spends a pull while more than `reserve` are left; a
 * window that ended lets one probe go and the rest wait for its reading.
 */
export function takePull(state: BudgetState | undefined, now: number, reserve: number): TakeDecision {
  if (state === undefined) return { kind: 'go' };
  if (state.resetAt <= now) {
    // The window (or a probe's lease) is over: this pull probes; the others wait for its reading.
    return { kind: 'go', next: { ...state, remaining: 0, probing: true, resetAt: now + probeLeaseMs } };
  }
  if (state.remaining > reserve) return { kind: 'go', next: { ...state, remaining: state.remaining - 1 } };
  return { kind: 'wait', until: state.resetAt, state };
}

/**
 * The state after a response said `reading`. A window's first reading (after nothing was known,
 * or a probe) is taken as it is and starts the window — less `othersInFlight`, the pulls sent and
 * not yet answered besides this one, which the registry may not have counted yet. Within a window
 * Ferry keeps the lower of its own count (every pull it sent, answered or not) and the
 * registry's: responses arrive out of order, and another client of the same account spends too.
 */
export function recordReading(
  state: BudgetState | undefined,
  reading: RateLimitReading,
  now: number,
  othersInFlight: number,
): BudgetState {
  if (state === undefined || state.probing || state.resetAt <= now) {
    const windowMs = reading.windowMs ?? state?.windowMs ?? defaultWindowMs;
    return {
      limit: reading.limit,
      remaining: Math.max(0, reading.remaining - othersInFlight),
      windowMs,
      resetAt: now + (reading.resetMs ?? windowMs),
      probing: false,
    };
  }
  return {
    ...state,
    limit: reading.limit,
    remaining: Math.min(state.remaining, reading.remaining),
    // A registry that says when its window resets knows better than Ferry's estimate.
    ...(reading.resetMs === undefined ? {} : { resetAt: now + reading.resetMs }),
  };
}

/** A 429 on a manifest GET with no reading: the budget is spent for the rest of the window. */
export function recordRefusal(state: BudgetState | undefined): BudgetState | undefined {
  return state === undefined || state.probing ? state : { ...state, remaining: 0 };
}

/** The budget of one process: a map. */
export class MemoryPullBudgetStore implements PullBudgetStore {
  readonly #budgets = new Map<string, VersionedBudget>();

  read(key: PullKey): Promise<VersionedBudget | undefined> {
    return Promise.resolve(this.#budgets.get(budgetKey(key)));
  }

  write(key: PullKey, state: BudgetState, version: number | undefined): Promise<boolean> {
    const id = budgetKey(key);
    if (this.#budgets.get(id)?.version !== version) return Promise.resolve(false);
    this.#budgets.set(id, { state, version: (version ?? 0) + 1 });
    return Promise.resolve(true);
  }
}

/** One string per budget: the registry host and the identity hash (neither holds a secret). */
export function budgetKey(key: PullKey): string {
  return `${key.registry}#${key.identity}`;
}
