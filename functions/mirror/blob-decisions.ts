import type { Logger } from '../oci/log.js';
import type { Descriptor } from '../oci/manifest.js';
import { decideRetry, exhausted, isRetryable, type RetryBudgets, type RetryPolicy } from '../oci/retry.js';

/**
 * What the ladder does about one failure of a streamed blob:
 * - `resume`: read on from the byte reached with `Range` (the source honours it); the upload
 *   goes on, and the bytes already sent were hashed by the verifier, which checks them all at the end;
 * - `restart`: read from byte 0 again. After a read failure on a source that ignores `Range`, the
 *   upload goes on and the bytes already sent are dropped from the new body (still verified);
 *   after an upload failure, a digest mismatch or a stalled source, a new upload starts.
 */
export type TransferDecision = 'resume' | 'restart';

/** Which side failed: its host's retry budget pays for the decision. */
export type FailedSide = 'source' | 'destination';

/**
 * The decisions on one blob's transfer: one per failure, each logged as one structured line
 * (blob, decision, offset, attempt), at most `policy.attempts - 1` in all, each taking a token
 * of the failing host's retry budget — the budget `RegistryClient` draws on, so the ladder never
 * multiplies the request layer's retries. Giving up throws the failure, marked exhausted.
 */
export class TransferDecisions {
  readonly #descriptor: Descriptor;
  readonly #hosts: Readonly<Record<FailedSide, string>>;
  readonly #policy: RetryPolicy;
  readonly #budgets: RetryBudgets;
  readonly #logger: Logger;
  #attempt = 0;
  /** Set once a failure was not retried: the transfer is over, later failures are its echoes. */
  #failed = false;
  /** Set once a source answered a ranged GET from byte 0. */
  rangeIgnored = false;

  constructor(
    descriptor: Descriptor,
    hosts: Readonly<Record<FailedSide, string>>,
    policy: RetryPolicy,
    budgets: RetryBudgets,
    logger: Logger,
  ) {
    this.#descriptor = descriptor;
    this.#hosts = hosts;
    this.#policy = policy;
    this.#budgets = budgets;
    this.#logger = logger;
  }

  /** Decisions made so far. */
  get attempt(): number {
    return this.#attempt;
  }

  /**
   * Decides once on `err`, which broke the transfer at `offset` bytes: a read failure may
   * resume; an upload failure (`upload: 'failed'`) restarts. Returns the decision and how long
   * to wait first; throws `err` when it is not retryable or the attempts or budget are spent.
   */
  decide(
    err: unknown,
    side: FailedSide,
    offset: number,
    upload: 'kept' | 'failed',
    signal?: AbortSignal,
  ): { readonly decision: TransferDecision; readonly delayMs: number } {
    if (signal?.aborted) throw err;
    // A read that gave up may surface again from the verifier or the upload: decided already.
    if (this.#failed) throw isRetryable(err) ? exhausted(err) : err;
    const verdict = decideRetry(
      { retryable: isRetryable(err) },
      this.#attempt,
      this.#policy,
      this.#budgets.for(this.#hosts[side]),
    );
    const decision: TransferDecision =
      upload === 'kept' && offset > 0 && !this.#descriptorDone(offset) && !this.rangeIgnored ? 'resume' : 'restart';
    const fields = {
      digest: this.#descriptor.digest,
      side,
      offset: decision === 'resume' ? offset : 0,
      reached: offset,
      attempt: this.#attempt + 1,
      upload: upload === 'kept' ? 'kept' : 'new',
    };
    if (!verdict.retry) {
      this.#failed = true;
      this.#logger.warn('blob transfer failed', { ...fields, decision: 'fail', why: verdict.why, error: String(err) });
      throw verdict.why === 'permanent' ? err : exhausted(err);
    }
    this.#attempt++;
    // A body that broke off is read on at once (the connection is gone, not the host); a new start backs off.
    const delayMs = upload === 'kept' && offset > 0 ? 0 : verdict.delayMs;
    this.#logger.warn('blob transfer broke off', { ...fields, decision, delayMs, error: String(err) });
    return { decision, delayMs };
  }

  #descriptorDone(offset: number): boolean {
    return offset >= this.#descriptor.size;
  }
}
