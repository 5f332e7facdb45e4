import { describe, expect, it } from 'vitest';
import {
  checkPattern,
  compilePattern,
  maxPatternLength,
  maxSubjectLength,
  searchPattern,
} from '../../../functions/mirror/image-set/pattern.js';

describe('checkPattern', () => {
  it.each([
    '^1\\.2[6-9]\\.',
    '-alpine',
    'rc',
    '^v?\\d+\\.\\d+\\.\\d+$',
    '(?:alpha|beta)\\d*',
    '^(latest|stable)$',
    '(-rc\\.\\d+)?$',
    '[(+*]+',
    '(?<flavour>alpine|slim)',
    '(?i)^Stable$',
    '^docker\\.io/library/busybox(:|@|$)',
    '(ab){2,}',
    '(?P<flavour>alpine|slim)$',
  ])('accepts %s', (pattern) => {
    expect(checkPattern(pattern)).toBeUndefined();
  });

  it.each([
    ['(a+)+$', 'nested repetition'],
    ['(a|aa)*b', 'nested repetition'],
    ['(?:x*)*', 'nested repetition'],
    ['((ab)*c){1,}', 'nested repetition'],
    ['(a)\\1', 'backreferences'],
    ['(?<n>a)\\k<n>', 'backreferences'],
    ['^(?=1)', 'lookaround'],
    ['(?<!x)y', 'lookaround'],
    ['(unclosed', 'invalid regular expression'],
    ['[z-a]', 'invalid regular expression'],
    ['a'.repeat(maxPatternLength + 1), 'longer than'],
  ])('refuses %s (%s)', (pattern, reason) => {
    expect(checkPattern(pattern)).toContain(reason);
    expect(() => compilePattern(pattern)).toThrow();
  });
});

describe('searchPattern', () => {
  it('searches unanchored, as Go regexp.MatchString', () => {
    expect(searchPattern(compilePattern('alpine'), '1.27-alpine3.20')).toBe(true);
    expect(searchPattern(compilePattern('^alpine'), '1.27-alpine')).toBe(false);
  });

  it("reads Go's (?i) and (?P<name>) spellings", () => {
    expect(searchPattern(compilePattern('(?i)^RC'), 'rc1')).toBe(true);
    expect(compilePattern('(?P<v>\\d+)').exec('x12')?.groups?.['v']).toBe('12');
  });

  it('never matches a subject longer than the cap', () => {
    expect(searchPattern(compilePattern('a'), 'a'.repeat(maxSubjectLength + 1))).toBe(false);
    expect(searchPattern(compilePattern('a'), 'a'.repeat(maxSubjectLength))).toBe(true);
  });
});
