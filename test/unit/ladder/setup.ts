import { BlobCopier, type BlobCopierOptions } from '../../../functions/mirror/blob-copier.js';
import type { Logger } from '../../../functions/oci/log.js';
import { RetryBudgets } from '../../../functions/oci/retry.js';
import { FakeClock } from './fake-clock.js';

/** Deterministic bytes of a given size, distinct per `seed`. */
export function bytes(size: number, seed = 1): Buffer {
  const out = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

/** A logger that keeps its lines, for assertions on the decisions' fields. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (message: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, message, fields });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn') };
}

/** The ladder's decision lines (one per failure), as `decision@offset`. */
export function decisions(lines: readonly LogLine[]): string[] {
  return lines
    .filter((l) => typeof l.fields.decision === 'string')
    .map((l) => `${String(l.fields.decision)}@${String(l.fields.offset)}`);
}

/** A copier on a fake clock, with no rate floor unless asked and a recording logger. */
export function copierFor(options: BlobCopierOptions = {}, clock = new FakeClock()) {
  const logger = recordingLogger();
  const budgets = options.budgets ?? new RetryBudgets({}, clock);
  const copier = new BlobCopier({
    clock,
    logger,
    budgets,
    minRate: { bytesPerSecond: 0, windowMs: 1000 },
    retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 },
    ...options,
  });
  return { copier, clock, logger, budgets };
}
