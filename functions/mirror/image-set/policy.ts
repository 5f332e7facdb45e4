import semver from 'semver';
import { compilePattern, searchPattern } from './pattern.js';

/**
 * Which tags of a repository an image set selects (issue 9's `mirror.repositories[].tags`).
 * Every field is optional; an empty policy selects every tag.
 */
export interface TagPolicy {
  /** Regular expressions (unanchored search, as Go's): a tag must match one. Default: all tags. */
  include?: string[];
  /** Regular expressions: a tag matching any is dropped. */
  exclude?: string[];
  /** An npm semver range; tags that are not semver (after an optional leading `v`) are dropped. */
  semver?: string;
  /** Then keep the N highest by semver (non-semver tags dropped). */
  latest?: number;
}

/** Longest tag the reference grammar allows: longer ones are never selected (and never reach a regex). */
export const maxTagLength = 128;

/** A compiled {@link TagPolicy}: regexes and the range are built once and reused for every call. */
export type TagSelector = (tags: readonly string[]) => string[];

/**
 * Compiles a policy once (see {@link selectTags} for the rules). Throws on a pattern or range that
 * `parseImageSet` would have refused; a validated policy never throws here.
 */
export function compileTagPolicy(policy: TagPolicy): TagSelector {
  const include = (policy.include ?? []).map(compilePattern);
  const exclude = (policy.exclude ?? []).map(compilePattern);
  const range = policy.semver === undefined ? undefined : semver.validRange(policy.semver);
  if (range === null) throw new Error(`invalid semver range "${policy.semver}"`);
  const latest = policy.latest;
  const rankBySemver = range !== undefined || latest !== undefined;

  return (tags) => {
    const seen = new Set<string>();
    const kept: { tag: string; version: semver.SemVer | undefined }[] = [];
    for (const tag of tags) {
      if (tag.length === 0 || tag.length > maxTagLength || seen.has(tag)) continue;
      seen.add(tag);
      if (include.length > 0 && !include.some((re) => searchPattern(re, tag))) continue;
      if (exclude.some((re) => searchPattern(re, tag))) continue;
      if (!rankBySemver) {
        kept.push({ tag, version: undefined });
        continue;
      }
      const version = semver.parse(tag);
      if (version === null) continue;
      // npm semantics (includePrerelease: false): `latest` alone ranks like the range `*`, which
      // admits no pre-release; a range admits one only through a comparator on the same x.y.z.
      if (!semver.satisfies(version, range ?? '*')) continue;
      kept.push({ tag, version });
    }
    if (latest === undefined) return kept.map((k) => k.tag);
    kept.sort((a, b) => semver.rcompare(a.version!, b.version!) || compareStrings(a.tag, b.tag));
    return kept.slice(0, latest).map((k) => k.tag);
  };
}

/**
 * The tags a policy selects, in this order of rules:
 * 1. tags longer than {@link maxTagLength} or repeated are dropped (a regex never sees them);
 * 2. `include`: a tag must match at least one pattern (default: every tag);
 * 3. `exclude`: a tag matching any pattern is dropped;
 * 4. `semver`: npm semantics with `includePrerelease: false` — a leading `v` is allowed
 *    (`v1.27.0` is 1.27.0), tags that are not semver are dropped, and a pre-release
 *    (`1.28.0-rc.1`) is kept only when a comparator of the range names a pre-release of the same
 *    x.y.z (`>=1.28.0-rc.0`);
 * 5. `latest: N`: the N highest by semver among what is left (with no `semver` range, as if the
 *    range were `*`: non-semver tags and pre-releases are not ranked). Returned highest first;
 *    equal versions (`1.2.3` and `v1.2.3`) are ordered by tag string, so the result is stable.
 * Without `latest`, tags are returned in input order.
 */
export function selectTags(tags: readonly string[], policy: TagPolicy): string[] {
  return compileTagPolicy(policy)(tags);
}

/** Code-unit order: the same on every runtime and locale. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
