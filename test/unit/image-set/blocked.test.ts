import { describe, expect, it } from 'vitest';
import { isBlocked } from '../../../functions/mirror/image-set/blocked.js';
import { digestA, digestB } from './fixtures.js';

const block = (...names: string[]) => names.map((name) => ({ name }));

describe('isBlocked (oc-mirror v2: each entry is a regular expression searched in the reference)', () => {
  it.each<[string, string[], string, boolean]>([
    ['the same repository, by tag', ['docker.io/library/busybox'], 'docker.io/library/busybox:1.36', true],
    ['the same repository, by digest', ['docker.io/library/busybox'], `docker.io/library/busybox@${digestA}`, true],
    ['a short name normalises to docker.io/library', ['docker.io/library/busybox'], 'busybox:1.36', true],
    ['a short name with docker://', ['docker.io/library/busybox'], 'docker://busybox', true],
    ['a Docker Hub alias normalises', ['^docker\\.io/library/busybox'], 'index.docker.io/library/busybox:1', true],
    ['a short entry blocks the full reference', ['busybox'], 'docker.io/library/busybox:1.36', true],
    ['a short entry blocks the name anywhere (oc-mirror searches)', ['busybox'], 'quay.io/org/busybox:1', true],
    ['another repository is not blocked', ['docker.io/library/busybox'], 'docker.io/library/alpine:3.20', false],
    ['another registry is not blocked', ['docker.io/library/busybox'], 'quay.io/library/busybox:1', false],
    [
      'a prefix of a name blocks (busybox-extra)',
      ['docker.io/library/busybox'],
      'docker.io/library/busybox-extra:1',
      true,
    ],
    ['an anchored entry blocks its repository', ['^docker\\.io/library/busybox(:|@|$)'], 'busybox:1.36', true],
    ['an anchored entry spares busybox-extra', ['^docker\\.io/library/busybox(:|@|$)'], 'busybox-extra:1', false],
    ['a prefix of a path blocks everything below it', ['quay.io/org/'], 'quay.io/org/team/app:1', true],
    ['a path prefix with a slash spares quay.io/organisation', ['quay.io/org/'], 'quay.io/organisation/app:1', false],
    ['a path prefix without a slash is a prefix of a name too', ['quay.io/org'], 'quay.io/organisation/app:1', true],
    ['an entry with a tag blocks that tag', ['docker.io/library/busybox:1.36'], 'busybox:1.36', true],
    [
      'an entry with a tag blocks longer tags it is a prefix of (a search)',
      ['docker.io/library/busybox:1.36'],
      'busybox:1.36.1',
      true,
    ],
    ['an entry with a tag spares other tags', ['docker.io/library/busybox:1.36'], 'busybox:1.35', false],
    ['an entry with a tag spares the digest form', ['docker.io/library/busybox:1.36'], `busybox@${digestA}`, false],
    ['an entry with a digest blocks that digest', [`quay.io/org/app@${digestA}`], `quay.io/org/app@${digestA}`, true],
    [
      'an entry with a digest spares another digest',
      [`quay.io/org/app@${digestA}`],
      `quay.io/org/app@${digestB}`,
      false,
    ],
    ['an entry with a digest spares tags', [`quay.io/org/app@${digestA}`], 'quay.io/org/app:1', false],
    ['any one of several entries suffices', ['nomatch', 'alpine'], 'alpine:3', true],
  ])('%s', (_name, entries, reference, expected) => {
    expect(isBlocked(reference, block(...entries))).toBe(expected);
  });

  it('blocks nothing when the list is empty', () => {
    expect(isBlocked('busybox', [])).toBe(false);
  });

  it('searches the destination too, as oc-mirror does', () => {
    const entries = block('^reg\\.example\\.com/mirror/library/');
    expect(isBlocked('busybox:1', entries)).toBe(false);
    expect(isBlocked('busybox:1', entries, 'reg.example.com/mirror/library/busybox:1')).toBe(true);
    expect(isBlocked('quay.io/org/app:1', entries, 'reg.example.com/mirror/org/app:1')).toBe(false);
  });

  it('matches a reference that does not parse as written', () => {
    expect(isBlocked('Not A Reference', block('A Ref'))).toBe(true);
  });

  it('compiles an entry list once and answers the same every time', () => {
    const entries = block('busybox');
    expect([1, 2, 3].map(() => isBlocked('busybox', entries))).toEqual([true, true, true]);
  });
});
