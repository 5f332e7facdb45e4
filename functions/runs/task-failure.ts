import { copyInvocationsExceeded, LambdaErrors, maxCopyInvocations } from '../contract.js';
import { RetryableErrorNames } from '../oci/errors.js';

/** The Lambda limits of the copy task, as the workflow passes them to RecordFailure. */
export interface CopyLimits {
  readonly timeoutSeconds: number;
  readonly memoryMB: number;
}

/**
 * Why the workflow gave up on an image's copy task: the error name Step Functions reported (a
 * typed Ferry error, or one of the Lambda service's own, {@link LambdaErrors}), its cause's
 * message, and the copy task's limits.
 */
export interface TaskFailure {
  readonly error?: string;
  readonly cause?: string;
  readonly limits?: CopyLimits;
}

const timeouts: readonly string[] = LambdaErrors.timeout;
const outOfMemory: readonly string[] = LambdaErrors.outOfMemory;
const throttled: readonly string[] = LambdaErrors.throttled;
const service: readonly string[] = LambdaErrors.service;

/**
 * The image's message for a copy task the workflow gave up on, saying what happened: a timeout
 * or an out-of-memory kill is named as such with the invocations the image took (it was not
 * "retried" when nothing was), throttling and typed retryable errors say that retries were spent,
 * anything else is its own message.
 */
export function failureMessage(failure: TaskFailure, invocations: number): string {
  const { error, cause, limits } = failure;
  const reason = cause ?? error ?? 'failed';
  // No invocation recorded: the function died before its first write (or the image predates the count).
  const taken = invocations === 0 ? '' : ` after ${invocations} ${invocations === 1 ? 'invocation' : 'invocations'}`;
  const timedOut = (): string =>
    `copy-image timed out${taken} (${limits ? `Lambda ${formatMinutes(limits.timeoutSeconds)} limit` : 'the Lambda time limit'})`;
  const outOfMemoryMessage = (): string =>
    `copy-image ran out of memory (${limits ? `${limits.memoryMB} MB` : 'the Lambda memory size'})${taken}`;
  if (error === undefined) return reason;
  if (timeouts.includes(error)) return timedOut();
  if (outOfMemory.includes(error)) return outOfMemoryMessage();
  if (error === LambdaErrors.unknown) {
    // Lambda.Unknown is an unhandled end of the function: its cause tells a timeout from a kill.
    if (/timed out/i.test(reason)) return timedOut();
    if (/out ?of ?memory|signal: killed/i.test(reason)) return outOfMemoryMessage();
    return `copy-image ended without a result${taken} (Lambda.Unknown: ${reason})`;
  }
  if (error === copyInvocationsExceeded)
    return `copy-image did not finish within ${maxCopyInvocations} invocations${limits ? ` (Lambda ${formatMinutes(limits.timeoutSeconds)} limit each)` : ''}`;
  if (throttled.includes(error))
    return `copy-image could not be invoked: Lambda throttled it (${error}), gave up after retries`;
  if (service.includes(error)) return `copy-image could not be invoked: ${error}: ${reason} (gave up after retries)`;
  if (RetryableErrorNames.includes(error)) return `${reason} (gave up after retries)`;
  return reason;
}

function formatMinutes(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}-minute` : `${seconds}-second`;
}
