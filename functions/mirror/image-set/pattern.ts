/**
 * Regular expressions from image-set documents (tag include/exclude, blockedImages). The document
 * is user input that the API stores and runs on a schedule, and JavaScript's engine backtracks, so
 * a pattern is checked before it is compiled:
 * - at most {@link maxPatternLength} characters;
 * - none of the constructs RE2 (oc-mirror's Go `regexp`) lacks — backreferences and lookaround —
 *   so a document means the same to both tools and the worst exponential class is gone;
 * - no unbounded repetition (`*`, `+`, `{n,}`) of a group that itself repeats or alternates
 *   (`(a+)+`, `(a|aa)*`): the shape of catastrophic backtracking.
 * What is left is at worst polynomial, and the subjects are short: tags are at most 128
 * characters ({@link maxSubjectLength} is checked by the callers) and references a few hundred.
 * A linear-time engine would remove the class altogether; this guard is the dependency-free floor.
 */
export const maxPatternLength = 256;
/** Subjects longer than this never match (a tag is ≤ 128 characters by the reference grammar). */
export const maxSubjectLength = 1024;

/**
 * Why `source` is refused as a pattern, or undefined when it compiles and passes the guard above.
 * Go's leading `(?i)` (case-insensitive) and `(?P<name>…)` groups are accepted.
 */
export function checkPattern(source: string): string | undefined {
  if (source.length > maxPatternLength) return `regular expression longer than ${maxPatternLength} characters`;
  const { body, flags } = splitFlags(source);
  try {
    new RegExp(body, flags);
  } catch (err) {
    return `invalid regular expression: ${err instanceof Error ? err.message : String(err)}`;
  }
  return unsafeConstruct(body);
}

/** Compiles a pattern that {@link checkPattern} accepted (it throws on one it did not). */
export function compilePattern(source: string): RegExp {
  const why = checkPattern(source);
  if (why !== undefined) throw new Error(why);
  const { body, flags } = splitFlags(source);
  return new RegExp(body, flags);
}

/** Go's `regexp.MatchString`: an unanchored search. Over-long subjects never match. */
export function searchPattern(pattern: RegExp, subject: string): boolean {
  return subject.length <= maxSubjectLength && pattern.test(subject);
}

/** Go's spellings JavaScript lacks: a leading `(?i)` becomes the `i` flag, `(?P<name>` a named group. */
function splitFlags(source: string): { body: string; flags: string } {
  const body = source.replaceAll('(?P<', '(?<');
  return body.startsWith('(?i)') ? { body: body.slice(4), flags: 'i' } : { body, flags: '' };
}

interface Group {
  /** The group's body repeats (`*`, `+`, `?`, `{…}`) or alternates (`|`). */
  risky: boolean;
}

/** A single left-to-right scan: escapes and character classes are skipped, groups tracked on a stack. */
function unsafeConstruct(body: string): string | undefined {
  const stack: Group[] = [{ risky: false }];
  let closed: Group | undefined; // the group that ended just before the current character
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    const after = closed;
    closed = undefined;
    if (ch === '\\') {
      const next = body[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') return 'backreferences are not supported (RE2 has none)';
      i++;
      continue;
    }
    if (ch === '[') {
      i = skipClass(body, i);
      continue;
    }
    if (ch === '(') {
      if (/^\(\?<?[=!]/.test(body.slice(i, i + 4))) return 'lookaround is not supported (RE2 has none)';
      stack.push({ risky: false });
      // `(?:` and `(?<name>` open a group; their `?` is no quantifier.
      if (body[i + 1] === '?') i = body[i + 2] === '<' ? Math.max(body.indexOf('>', i), i + 2) : i + 2;
      continue;
    }
    if (ch === ')') {
      closed = stack.length > 1 ? stack.pop() : undefined;
      if (closed?.risky) stack[stack.length - 1]!.risky = true;
      continue;
    }
    if (ch === '|' || ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      stack[stack.length - 1]!.risky = true;
      const unbounded = ch === '*' || ch === '+' || (ch === '{' && /^\{\d*,\}/.test(body.slice(i)));
      if (unbounded && after?.risky) {
        return 'nested repetition (a repeated group that itself repeats or alternates) may backtrack catastrophically';
      }
    }
  }
  return undefined;
}

function skipClass(body: string, start: number): number {
  let i = start + 1;
  if (body[i] === '^') i++;
  if (body[i] === ']') i++;
  for (; i < body.length; i++) {
    if (body[i] === '\\') i++;
    else if (body[i] === ']') return i;
  }
  return i;
}
