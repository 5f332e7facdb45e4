// oc-mirror's `imagePaths`: kubectl-style JSONPath templates over a chart's values, the subset
// charts need — literal text and `{.a.b}`, `{.a[0].b}`, `{.a['b-c']}` lookups
// (`{.image.repository}:{.image.tag}`). Anything else is refused, never evaluated.

type Step = string | number;
type Part = { readonly text: string } | { readonly path: readonly Step[] };

/** A template parsed: literal text and value lookups in order; or why it is not one Ferry evaluates. */
export function parseImagePath(template: string): Part[] | string {
  const parts: Part[] = [];
  let rest = template;
  while (rest !== '') {
    const open = rest.indexOf('{');
    if (open < 0) {
      if (rest.includes('}')) return 'unbalanced "}"';
      parts.push({ text: rest });
      break;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    const close = rest.indexOf('}', open);
    if (close < 0) return 'unbalanced "{"';
    const path = parseSteps(rest.slice(open + 1, close).trim());
    if (typeof path === 'string') return path;
    parts.push({ path });
    rest = rest.slice(close + 1);
  }
  if (!parts.some((p) => 'path' in p)) return 'names no value ({.image.repository})';
  return parts;
}

function parseSteps(expr: string): Step[] | string {
  const steps: Step[] = [];
  const re = /^(?:\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  let rest = expr;
  if (!rest.startsWith('.') && !rest.startsWith('[')) return `"${expr}" is not a path (.image.tag)`;
  while (rest !== '') {
    const m = re.exec(rest);
    if (m === null) return `"${expr}" is not a path Ferry reads (.a.b, .a[0], .a['b'])`;
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3] ?? m[4])!);
    rest = rest.slice(m[0].length);
  }
  return steps;
}

/**
 * Evaluates a parsed template over `values`: each lookup must reach a string (or a number or
 * boolean, written as YAML wrote it); a missing or non-scalar value answers why, not a string.
 */
export function evaluateImagePath(parts: readonly Part[], values: unknown): { value: string } | { why: string } {
  let out = '';
  for (const part of parts) {
    if ('text' in part) {
      out += part.text;
      continue;
    }
    let at: unknown = values;
    for (const step of part.path) {
      if (typeof step === 'number') at = Array.isArray(at) ? at[step] : undefined;
      else at = isRecord(at) && Object.hasOwn(at, step) ? at[step] : undefined;
    }
    const where = part.path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');
    if (at === undefined || at === null || at === '') return { why: `${where} is not set` };
    if (typeof at !== 'string' && typeof at !== 'number' && typeof at !== 'boolean')
      return { why: `${where} is not a single value` };
    out += String(at);
  }
  return { value: out };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
