import { InvalidArgumentError } from 'commander';

const rateUnits: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/**
 * A transfer rate in bytes per second: `10KiB/s`, `1MB/s`, `500` (bytes), `0` (off). Units as
 * curl's `--speed-limit` reads them, plus the SI/IEC spellings; `/s` optional.
 */
export function parseRate(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s)?$/i.exec(value.trim());
  const unit = rateUnits[match?.[2]?.toLowerCase() ?? 'none'];
  if (!match || unit === undefined) throw new InvalidArgumentError('must be a rate such as 10KiB/s, 1MB/s or 0 (off)');
  return Math.floor(Number(match[1]) * unit);
}

/** A positive duration in seconds (fractions allowed), as milliseconds. */
export function parseSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('must be a positive number of seconds');
  return Math.round(n * 1000);
}
