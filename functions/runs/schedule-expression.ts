/**
 * EventBridge Scheduler's recurring expressions, checked as Scheduler checks them and evaluated in
 * UTC (`ferry serve` fires them in-process; the deployed stack hands them to Scheduler):
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html
 */

/** A parsed expression: a fixed interval, or the values each cron field admits. */
export type ScheduleExpression =
  | { readonly kind: 'rate'; readonly intervalMs: number }
  | {
      readonly kind: 'cron';
      readonly minutes: ReadonlySet<number>;
      readonly hours: ReadonlySet<number>;
      /** undefined: `?` (the day is chosen by the other day field). */
      readonly daysOfMonth: ReadonlySet<number> | undefined;
      readonly months: ReadonlySet<number>;
      /** 1 = Sunday … 7 = Saturday, as AWS numbers them; undefined: `?`. */
      readonly daysOfWeek: ReadonlySet<number> | undefined;
      readonly years: ReadonlySet<number>;
    };

const minuteMs = 60_000;
const unitMs = { minute: minuteMs, hour: 60 * minuteMs, day: 24 * 60 * minuteMs } as const;
const months = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const weekdays = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldRule {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Names for values min, min+1, … (months and weekdays). */
  readonly names?: readonly string[];
  /** Day-of-week takes no `/` (AWS's table lists `, - * ? L #` for it). */
  readonly noSteps?: boolean;
}
const fields: readonly FieldRule[] = [
  { label: 'minutes', min: 0, max: 59 },
  { label: 'hours', min: 0, max: 23 },
  { label: 'day-of-month', min: 1, max: 31 },
  { label: 'month', min: 1, max: 12, names: months },
  { label: 'day-of-week', min: 1, max: 7, names: weekdays, noSteps: true },
  { label: 'year', min: 1970, max: 2199 },
];

/**
 * Parses `rate(N unit)` or `cron(min hour day-of-month month day-of-week year)`, or says why not
 * (a message meant to follow the field name, e.g. `schedule: …`). Refused as Scheduler refuses
 * them: `rate(1 minutes)`, `rate(5 hour)` (1 takes the singular unit, more the plural), a `?` in
 * neither or both day fields. Scheduler's `L`, `W` and `#` are refused here too: Ferry does not
 * evaluate them in `ferry serve`, and a schedule must mean the same on both runtimes.
 */
export function parseScheduleExpression(text: string): { expression: ScheduleExpression } | { problem: string } {
  const rate = /^rate\((\d{1,6}) (minute|minutes|hour|hours|day|days)\)$/.exec(text);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value === 0 || rate[1]!.startsWith('0')) return { problem: 'the rate must be a positive whole number' };
    if (value === 1 && unit.endsWith('s'))
      return { problem: `rate(1 …) takes the singular unit: rate(1 ${unit.slice(0, -1)})` };
    if (value > 1 && !unit.endsWith('s'))
      return { problem: `rate(${value} …) takes the plural unit: rate(${value} ${unit}s)` };
    const base = unit.replace(/s$/, '') as keyof typeof unitMs;
    return { expression: { kind: 'rate', intervalMs: value * unitMs[base] } };
  }
  const cron = /^cron\(([^()]*)\)$/.exec(text);
  if (!cron)
    return {
      problem:
        'must be "rate(N minute|minutes|hour|hours|day|days)" or "cron(minutes hours day-of-month month day-of-week year)"',
    };
  const parts = cron[1]!.split(' ');
  if (parts.length !== 6 || parts.some((p) => p === ''))
    return {
      problem: 'cron(…) takes six fields separated by single spaces: minutes hours day-of-month month day-of-week year',
    };
  const dom = parts[2]!;
  const dow = parts[4]!;
  if ((dom === '?') === (dow === '?'))
    return { problem: 'cron(…) needs "?" in exactly one of day-of-month and day-of-week' };
  const sets: (Set<number> | undefined)[] = [];
  for (const [i, rule] of fields.entries()) {
    const part = parts[i]!;
    if (part === '?' && (i === 2 || i === 4)) {
      sets.push(undefined);
      continue;
    }
    const parsed = parseField(part, rule);
    if ('problem' in parsed) return { problem: `cron(…) ${rule.label} "${part.slice(0, 20)}": ${parsed.problem}` };
    sets.push(parsed.values);
  }
  const [mi, h, d, mo, w, y] = sets;
  return {
    expression: { kind: 'cron', minutes: mi!, hours: h!, daysOfMonth: d, months: mo!, daysOfWeek: w, years: y! },
  };
}

/** One field: `*`, or a comma list of `a`, `a-b`, with an optional `/step` (`*` or `a` start a stepped run to the max). */
function parseField(part: string, rule: FieldRule): { values: Set<number> } | { problem: string } {
  if (/[LW#]/.test(part.replace(/[A-Z]{3}/g, (name) => (rule.names?.includes(name) ? '' : name))))
    return { problem: 'L, W and # are not supported by Ferry; list the days instead' };
  const values = new Set<number>();
  for (const item of part.split(',')) {
    const m = /^(\*|[0-9A-Z]+)(?:-([0-9A-Z]+))?(?:\/(\d+))?$/.exec(item);
    if (!m) return { problem: 'must be *, a value, a range a-b, a list a,b or a step x/n' };
    const [, from, to, stepText] = m;
    if (stepText !== undefined && rule.noSteps) return { problem: 'takes no /step' };
    const start = from === '*' ? rule.min : value(from!, rule);
    if (start === undefined) return { problem: `"${from}" is not a value of ${valuesOf(rule)}` };
    if (from === '*' && to !== undefined) return { problem: '* cannot start a range' };
    let end = from === '*' || (to === undefined && stepText !== undefined) ? rule.max : start;
    if (to !== undefined) {
      const last = value(to, rule);
      if (last === undefined) return { problem: `"${to}" is not a value of ${valuesOf(rule)}` };
      if (last < start) return { problem: `the range ${from}-${to} runs backwards` };
      end = last;
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!(step >= 1 && step <= rule.max)) return { problem: `the step /${stepText} must be between 1 and ${rule.max}` };
    for (let v = start; v <= end; v += step) values.add(v);
  }
  return { values };
}

function value(text: string, rule: FieldRule): number | undefined {
  const named = rule.names?.indexOf(text) ?? -1;
  if (named >= 0) return rule.min + named;
  if (!/^\d{1,4}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= rule.min && n <= rule.max ? n : undefined;
}

function valuesOf(rule: FieldRule): string {
  const names = rule.names ? ` or ${rule.names[0]}-${rule.names[rule.names.length - 1]}` : '';
  return `${rule.min}-${rule.max}${names}`;
}

/**
 * The first fire strictly after `after`. A rate fires every interval from `anchor` (when the
 * schedule was applied); a cron fires at the start of every matching UTC minute. undefined: never
 * again (a cron whose years are past, or whose days never occur, such as 30 February).
 */
export function nextFire(expression: ScheduleExpression, after: Date, anchor: Date = after): Date | undefined {
  if (expression.kind === 'rate') {
    const elapsed = after.getTime() - anchor.getTime();
    const periods = elapsed < 0 ? 1 : Math.floor(elapsed / expression.intervalMs) + 1;
    return new Date(anchor.getTime() + periods * expression.intervalMs);
  }
  const e = expression;
  // Skip ahead field by field (a year, a month, a day, an hour at a time): at most a few
  // thousand steps up to Scheduler's last year, even for a day that never occurs.
  let t = new Date(Math.floor(after.getTime() / minuteMs) * minuteMs + minuteMs);
  while (t.getUTCFullYear() <= 2199) {
    const year = t.getUTCFullYear();
    const month = t.getUTCMonth();
    if (!e.years.has(year)) t = new Date(Date.UTC(year + 1, 0, 1));
    else if (!e.months.has(month + 1)) t = new Date(Date.UTC(year, month + 1, 1));
    else if (!dayMatches(e, t)) t = new Date(Date.UTC(year, month, t.getUTCDate() + 1));
    else if (!e.hours.has(t.getUTCHours())) t = new Date(Date.UTC(year, month, t.getUTCDate(), t.getUTCHours() + 1));
    else if (!e.minutes.has(t.getUTCMinutes())) t = new Date(t.getTime() + minuteMs);
    else return t;
  }
  return undefined;
}

function dayMatches(e: Extract<ScheduleExpression, { kind: 'cron' }>, t: Date): boolean {
  // Exactly one of the two day fields is `?` (the parser's rule): the other one decides.
  if (e.daysOfMonth) return e.daysOfMonth.has(t.getUTCDate());
  return e.daysOfWeek!.has(t.getUTCDay() + 1);
}
