import { describe, expect, it } from 'vitest';
import { parseRate, parseSeconds } from '../../functions/cli/units.js';

describe('--min-rate values', () => {
  it.each([
    ['0', 0],
    ['500', 500],
    ['500B/s', 500],
    ['10KiB/s', 10240],
    ['10k', 10240],
    ['10KB/s', 10000],
    ['1.5MiB/s', 1572864],
    ['1MB', 1000000],
    ['2GiB/s', 2 * 1024 ** 3],
    ['10 kib/s', 10240],
  ])('%s → %d bytes/s', (value, bytes) => {
    expect(parseRate(value)).toBe(bytes);
  });

  it.each(['', 'fast', '-1KiB/s', '10 furlongs/s', '10KiB/h'])('refuses %j', (value) => {
    expect(() => parseRate(value)).toThrow(/rate such as 10KiB\/s/);
  });
});

describe('--idle-timeout and --min-rate-window values', () => {
  it('reads seconds, fractions included, as milliseconds', () => {
    expect(parseSeconds('60')).toBe(60_000);
    expect(parseSeconds('0.5')).toBe(500);
  });

  it.each(['0', '-1', 'soon', '', 'Infinity'])('refuses %j', (value) => {
    expect(() => parseSeconds(value)).toThrow(/positive number of seconds/);
  });
});
