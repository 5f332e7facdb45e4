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
    '^v?\\d+\\.\\d+\\.\\d+(-rc\\.\\d+)?$',
    '(\\d+)\\.(\\d+)-.*',
    '^[0-9]+-[a-f0-9]+$',
    '.*-.*',
    '(?i)^v\\d+x\\d+X\\d+',
    'a{2,16}b{2,16}c{2,16}',
  ])('accepts %s', (pattern) => {
    expect(checkPattern(pattern)).toBeUndefined();
  });

  it.each([
    ['(a+)+$', 'nested repetition'],
    ['(a|aa)*b', 'nested repetition'],
    ['(?:x*)*', 'nested repetition'],
    ['((ab)*c){1,}', 'nested repetition'],
    ['.*.*.*x', 'in a row'],
    ['\\d+\\d+\\d+x', 'in a row'],
    ['.*-.*-.*x', 'in a row'],
    ['a*b?a*c*', 'in a row'],
    ['(?i)\\w+X\\w+x\\w+', 'in a row'],
    ['a{0,99}a{0,99}a{0,99}', 'in a row'],
    ['(.*)(.*)(.*)$', 'in a row'],
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
