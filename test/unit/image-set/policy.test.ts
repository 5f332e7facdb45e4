import { describe, expect, it } from 'vitest';
import { compileTagPolicy, selectTags, type TagPolicy } from '../../../functions/mirror/image-set/policy.js';
import { fixtureTags } from './fixtures.js';

describe('selectTags over the 16-tag fixture', () => {
  it.each<[string, TagPolicy, string[]]>([
    ['an empty policy keeps every tag, in input order', {}, [...fixtureTags]],
    [
      'include: a tag must match one pattern (unanchored search)',
      { include: ['^1\\.2[6-9]\\.'] },
      ['1.26.0', '1.26.3', '1.27.1', '1.27.1-alpine', '1.28.0-rc.1', '1.28.0', '1.29.0-beta.2'],
    ],
    [
      'include with several patterns: any one suffices',
      { include: ['^v', '^stable$'] },
      ['v1.27.0', 'v1.28.0', 'stable'],
    ],
    [
      'exclude: a tag matching any pattern is dropped',
      { exclude: ['-alpine', 'rc'] },
      [
        '1.25.5',
        '1.26.0',
        '1.26.3',
        'v1.27.0',
        '1.27.1',
        '1.27',
        '1.28.0',
        'v1.28.0',
        '1.29.0-beta.2',
        '2.0.0',
        'latest',
        'stable',
        '2024-05-01',
      ],
    ],
    [
      'semver: a leading v is allowed; pre-releases and non-semver tags are dropped',
      { semver: '>=1.26.0 <2' },
      ['1.26.0', '1.26.3', 'v1.27.0', '1.27.1', '1.28.0', 'v1.28.0'],
    ],
    ['semver caret range', { semver: '^1.27' }, ['v1.27.0', '1.27.1', '1.28.0', 'v1.28.0']],
    ['semver tilde range', { semver: '~1.26' }, ['1.26.0', '1.26.3']],
    ['semver exact version matches the v-prefixed tag', { semver: '=1.27.0' }, ['v1.27.0']],
    [
      'a pre-release comparator admits pre-releases of that x.y.z only (npm semantics)',
      { semver: '>=1.28.0-rc.0 <2' },
      ['1.28.0-rc.1', '1.28.0', 'v1.28.0'],
    ],
    ['semver ">=2" admits 2.0.0 only', { semver: '>=2' }, ['2.0.0']],
    [
      'latest N: the N highest stable versions, highest first; equal versions ordered by tag string',
      { latest: 3 },
      ['2.0.0', '1.28.0', 'v1.28.0'],
    ],
    ['latest 1 breaks the 1.28.0 / v1.28.0 tie by tag string', { semver: '<2', latest: 1 }, ['1.28.0']],
    [
      'latest larger than the candidates returns them all, sorted',
      { semver: '~1.27', latest: 10 },
      ['1.27.1', 'v1.27.0'],
    ],
    ['latest after exclude', { exclude: ['^2\\.'], latest: 2 }, ['1.28.0', 'v1.28.0']],
    [
      "issue 9's example policy: include, exclude, semver, latest 3",
      { include: ['^1\\.2[6-9]\\.'], exclude: ['-alpine', 'rc'], semver: '>=1.26.0 <2', latest: 3 },
      ['1.28.0', '1.27.1', '1.26.3'],
    ],
    [
      'latest ranks pre-releases the range admits',
      { semver: '>=1.29.0-beta.0', latest: 2 },
      ['2.0.0', '1.29.0-beta.2'],
    ],
    ['include date tags', { include: ['^\\d{4}-\\d{2}-\\d{2}$'] }, ['2024-05-01']],
    ['include that matches nothing', { include: ['^nope$'] }, []],
    ['include non-semver names only', { include: ['^(latest|stable)$'] }, ['latest', 'stable']],
    ["Go's leading (?i) makes a pattern case-insensitive", { include: ['(?i)^STABLE$'] }, ['stable']],
    [
      'exclude everything semver-like, keep the rest',
      { exclude: ['^v?\\d+\\.\\d+'] },
      ['latest', 'stable', '2024-05-01', 'mainline-alpine'],
    ],
    ['semver plus include narrows both ways', { include: ['^v'], semver: '>=1.28' }, ['v1.28.0']],
  ])('%s', (_name, policy, expected) => {
    expect(selectTags(fixtureTags, policy)).toEqual(expected);
  });
});

describe('selectTags edge cases', () => {
  it('drops repeated tags and keeps the first', () => {
    expect(selectTags(['1.0.0', 'a', '1.0.0', 'a'], {})).toEqual(['1.0.0', 'a']);
  });

  it('drops tags longer than 128 characters before any regex sees them', () => {
    const long = `1${'a'.repeat(128)}`;
    expect(selectTags([long, 'ok'], { include: ['a'] })).toEqual([]);
    expect(selectTags([long, 'ok'], {})).toEqual(['ok']);
  });

  it('drops empty tags', () => {
    expect(selectTags(['', 'x'], {})).toEqual(['x']);
  });

  it('is stable whatever the input order', () => {
    const reversed = [...fixtureTags].reverse();
    expect(selectTags(reversed, { latest: 4 })).toEqual(selectTags(fixtureTags, { latest: 4 }));
  });
});

describe('compileTagPolicy', () => {
  it('compiles once and selects the same on every call', () => {
    const select = compileTagPolicy({ semver: '^1', latest: 2 });
    expect(select(fixtureTags)).toEqual(['1.28.0', 'v1.28.0']);
    expect(select(['1.0.0', '1.1.0'])).toEqual(['1.1.0', '1.0.0']);
  });

  it('throws on an invalid range or an unsafe pattern (parseImageSet refuses them first)', () => {
    expect(() => compileTagPolicy({ semver: 'not a range' })).toThrow();
    expect(() => compileTagPolicy({ include: ['(a+)+$'] })).toThrow();
  });
});
