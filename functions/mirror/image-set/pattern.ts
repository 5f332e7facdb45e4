/**
 * Regular expressions from image-set documents (tag include/exclude, blockedImages). The document
 * is user input that the API stores and runs on a schedule, and JavaScript's engine backtracks, so
 * a pattern is checked before it is compiled:
 * - at most {@link maxPatternLength} characters;
 * - none of the constructs RE2 (oc-mirror's Go `regexp`) lacks — backreferences and lookaround —
 *   so a document means the same to both tools and the worst exponential class is gone;
 * - no unbounded repetition (`*`, `+`, `{n,}`) of a group that itself repeats or alternates
 *   (`(a+)+`, `(a|aa)*`): the shape of exponential backtracking;
 * - at most {@link maxRepetitionChain} unbounded repetitions in a row that can match the same text
 *   (`.*.*.*x`, `\d+\d+\d+`): k of them cost up to n^(k+1) steps on an n-character subject —
 *   measured on a 128-character tag: 2 ≈ 2 ms, 3 ≈ 90 ms, 4 ≈ 3 s. A literal that none of the
 *   repeated atoms can match ends a chain, so `^v?\d+\.\d+\.\d+(-rc\.\d+)?$` passes.
 * Subjects are short: tags are at most 128 characters and references at most
 * {@link maxSubjectLength}. The guard is conservative (it may refuse an odd but harmless pattern);
 * a linear-time engine (RE2) would remove the class altogether.
 */
export const maxPatternLength = 256;
/** Subjects longer than this never match: a reference is at most 255 + 1 + 128 + 1 + 135 characters. */
export const maxSubjectLength = 600;
/** Unbounded repetitions in a row that may match the same text (see above). */
export const maxRepetitionChain = 2;

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
  return unsafeConstruct(body) ?? longChain(body, flags);
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

/** What a repeated atom can match, coarsely: one character, a class escape, or anything. */
type Atom = { kind: 'char'; c: string } | { kind: 'digit' | 'word' | 'space' | 'any' };

function atomMatches(atom: Atom, c: string, ignoreCase: boolean): boolean {
  switch (atom.kind) {
    case 'char':
      return ignoreCase ? atom.c.toLowerCase() === c.toLowerCase() : atom.c === c;
    case 'digit':
      return /\d/.test(c);
    case 'word':
      return /\w/.test(c);
    case 'space':
      return /\s/.test(c);
    default:
      return true;
  }
}

/**
 * Why a pattern holds more than {@link maxRepetitionChain} unbounded repetitions in a row that may
 * match the same text. A chain ends at a top-level literal (not repeated, not optional) that none
 * of its atoms matches, or at a top-level `|`. Groups and classes count as "anything".
 */
function longChain(body: string, flags: string): string | undefined {
  let chain: Atom[] = [];
  let depth = 0;
  for (let i = 0; i < body.length;) {
    const ch = body[i]!;
    let atom: Atom | undefined;
    let literal: string | undefined;
    let end = i + 1;
    if (ch === '\\') {
      const next = body[i + 1] ?? '';
      end = i + 2;
      if (next === 'd') atom = { kind: 'digit' };
      else if (next === 'w') atom = { kind: 'word' };
      else if (next === 's') atom = { kind: 'space' };
      else if (/[^A-Za-z0-9]/.test(next)) atom = { kind: 'char', c: (literal = next) };
      else {
        atom = { kind: 'any' }; // \D, \W, \S, \b, \xHH, \uHHHH, \p{…}: skip their payload
        const payload = /^(?:x[0-9a-fA-F]{2}|u\{[^}]*\}|u[0-9a-fA-F]{4}|[pP]\{[^}]*\}|c[A-Za-z])/.exec(
          body.slice(i + 1),
        );
        if (payload) end = i + 1 + payload[0].length;
      }
    } else if (ch === '[') {
      atom = { kind: 'any' };
      end = skipClass(body, i) + 1;
    } else if (ch === '(') {
      depth++;
      if (body[i + 1] === '?') end = body[i + 2] === '<' || body[i + 2] === 'P' ? body.indexOf('>', i) + 1 : i + 3;
      i = Math.max(end, i + 1);
      continue;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      atom = { kind: 'any' };
    } else if (ch === '|') {
      if (depth === 0) chain = [];
      i++;
      continue;
    } else if (ch === '^' || ch === '$') {
      i++;
      continue;
    } else {
      atom = ch === '.' ? { kind: 'any' } : { kind: 'char', c: (literal = ch) };
    }
    const quantifier = /^(?:[*+?]|\{\d*(?:,\d*)?\})\??/.exec(body.slice(end))?.[0] ?? '';
    // `{n,m}` with a large m backtracks like `*`.
    const upper = /^\{\d*,(\d+)\}/.exec(quantifier)?.[1];
    const unbounded = /^[*+]|^\{\d*,\}/.test(quantifier) || (upper !== undefined && Number(upper) > 16);
    if (unbounded) {
      chain.push(atom);
      if (chain.length > maxRepetitionChain) {
        return `more than ${maxRepetitionChain} unbounded repetitions in a row may backtrack polynomially`;
      }
    } else if (quantifier === '' && depth === 0 && literal !== undefined) {
      const c = literal;
      if (!chain.some((a) => atomMatches(a, c, flags.includes('i')))) chain = [];
    }
    i = end + quantifier.length;
  }
  return undefined;
}
