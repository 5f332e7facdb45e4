import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../../functions/runs/errors.js';
import { ImageSetService } from '../../../functions/runs/image-sets.js';
import {
  nextFire,
  parseScheduleExpression,
  type ScheduleExpression,
} from '../../../functions/runs/schedule-expression.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';

const config = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { additionalImages: [{ name: 'registry.example/app:1' }] },
};

function parse(text: string): ScheduleExpression {
  const parsed = parseScheduleExpression(text);
  if ('problem' in parsed) throw new Error(`${text}: ${parsed.problem}`);
  return parsed.expression;
}

const utc = (iso: string) => new Date(iso);

describe('parseScheduleExpression: what EventBridge Scheduler accepts', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(6 hours)', 21_600_000],
    ['rate(1 day)', 86_400_000],
    ['rate(2 days)', 172_800_000],
  ])('%s is every %i ms', (text, ms) => {
    expect(parse(text)).toEqual({ kind: 'rate', intervalMs: ms });
  });

  it.each([
    'cron(0 3 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0 9 ? JAN,JUL SUN 2026-2030)',
    'cron(5,35 */2 1-15/7 */3 ? *)',
    'cron(0 0 ? * 1,7 *)',
    'cron(59 23 31 DEC ? 2199)',
  ])('accepts %s', (text) => {
    expect(parseScheduleExpression(text)).toHaveProperty('expression.kind', 'cron');
  });

  it.each([
    ['rate(1 minutes)', 'singular'],
    ['rate(1 hours)', 'singular'],
    ['rate(5 minute)', 'plural'],
    ['rate(2 day)', 'plural'],
    ['rate(0 minutes)', 'positive'],
    ['rate(05 minutes)', 'positive'],
    ['rate(5 weeks)', 'must be'],
    ['rate(5  minutes)', 'must be'],
    ['every day', 'must be'],
    ['at(2026-01-01T00:00:00)', 'must be'],
    ['cron(0 3 * *)', 'six fields'],
    ['cron(0 3 * * ? * *)', 'six fields'],
    ['cron(0  3 * * ? *)', 'six fields'],
    ['cron(0 3 * * * *)', '"?" in exactly one'],
    ['cron(0 3 ? * ? *)', '"?" in exactly one'],
    ['cron(0 3 1 * MON *)', '"?" in exactly one'],
    ['cron(0 3 ? * MON-FRI ?)', 'year'],
    ['cron(60 3 * * ? *)', 'minutes'],
    ['cron(0 24 * * ? *)', 'hours'],
    ['cron(0 3 0 * ? *)', 'day-of-month'],
    ['cron(0 3 32 * ? *)', 'day-of-month'],
    ['cron(0 3 * 13 ? *)', 'month'],
    ['cron(0 3 * FOO ? *)', 'month'],
    ['cron(0 3 ? * 8 *)', 'day-of-week'],
    ['cron(0 3 ? * mon *)', 'day-of-week'],
    ['cron(0 3 * * ? 1969)', 'year'],
    ['cron(0 3 * * ? 2200)', 'year'],
    ['cron(0 17-9 * * ? *)', 'backwards'],
    ['cron(0/0 3 * * ? *)', 'step'],
    ['cron(*-5 3 * * ? *)', 'cannot start a range'],
    ['cron(0 3 ? * MON/2 *)', 'no /step'],
    ['cron(0 3 L * ? *)', 'L, W and #'],
    ['cron(0 3 15W * ? *)', 'L, W and #'],
    ['cron(0 3 ? * 6L *)', 'L, W and #'],
    ['cron(0 3 ? * 3#2 *)', 'L, W and #'],
    ['cron(0,,5 3 * * ? *)', 'minutes'],
  ])('refuses %s (%s)', (text, fragment) => {
    const parsed = parseScheduleExpression(text);
    expect(parsed).toHaveProperty('problem');
    expect((parsed as { problem: string }).problem).toContain(fragment);
  });

  it('names the values a cron field admits (sets), weekdays numbered from Sunday = 1 as AWS does', () => {
    const e = parse('cron(0/20 8-10 ? JAN,MAR-APR MON-WED,SAT 2027)');
    expect(e).toEqual({
      kind: 'cron',
      minutes: new Set([0, 20, 40]),
      hours: new Set([8, 9, 10]),
      daysOfMonth: undefined,
      months: new Set([1, 3, 4]),
      daysOfWeek: new Set([2, 3, 4, 7]),
      years: new Set([2027]),
    });
  });

  it('is the PUT check: a bad schedule is a 400 naming `schedule`, and nothing is stored', async () => {
    const store = new MemoryImageSets();
    const service = new ImageSetService(store);
    for (const schedule of ['rate(1 hours)', 'cron(0 3 * * * *)', 'cron(0 3 ? * 3#2 *)']) {
      const err = await service
        .putImageSet('bad', { kind: 'json', body: { config, schedule } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as Error).message).toMatch(/^schedule: /);
    }
    expect(store.calls).toEqual([]);
  });
});

describe('nextFire over a fake clock (UTC)', () => {
  it('fires a rate every interval from when it was applied, strictly after the given time', () => {
    const e = parse('rate(5 minutes)');
    const anchor = utc('2026-01-31T23:58:00Z');
    expect(nextFire(e, anchor, anchor)).toEqual(utc('2026-02-01T00:03:00Z'));
    expect(nextFire(e, utc('2026-02-01T00:03:00Z'), anchor)).toEqual(utc('2026-02-01T00:08:00Z'));
    expect(nextFire(e, utc('2026-02-01T00:04:59.999Z'), anchor)).toEqual(utc('2026-02-01T00:08:00Z'));
    // A time before the anchor (a clock set back): the first fire is one interval after the anchor.
    expect(nextFire(e, utc('2026-01-31T23:00:00Z'), anchor)).toEqual(utc('2026-02-01T00:03:00Z'));
    expect(nextFire(parse('rate(1 day)'), utc('2028-02-28T10:00:00Z'))).toEqual(utc('2028-02-29T10:00:00Z'));
  });

  it.each([
    // [expression, after, next]
    ['cron(0 3 * * ? *)', '2026-03-01T02:59:59Z', '2026-03-01T03:00:00Z'],
    ['cron(0 3 * * ? *)', '2026-03-01T03:00:00Z', '2026-03-02T03:00:00Z'],
    ['cron(0 3 * * ? *)', '2026-12-31T03:00:00Z', '2027-01-01T03:00:00Z'],
    ['cron(0/15 * * * ? *)', '2026-01-31T23:59:00Z', '2026-02-01T00:00:00Z'],
    ['cron(0/15 * * * ? *)', '2026-01-31T23:45:30Z', '2026-02-01T00:00:00Z'],
    ['cron(30 23 31 * ? *)', '2026-01-31T23:30:00Z', '2026-03-31T23:30:00Z'], // February and its 28 days skipped
    ['cron(0 0 29 FEB ? *)', '2026-01-01T00:00:00Z', '2028-02-29T00:00:00Z'], // next leap year
    ['cron(0 12 ? * SUN *)', '2026-12-28T00:00:00Z', '2027-01-03T12:00:00Z'], // 2026-12-28 is a Monday
    ['cron(0 18 ? * MON-FRI *)', '2026-05-01T18:00:00Z', '2026-05-04T18:00:00Z'], // Friday → Monday
    ['cron(5 8-10 1 * ? 2030)', '2026-06-01T00:00:00Z', '2030-01-01T08:05:00Z'],
    ['cron(0 0 1 JAN ? *)', '2026-06-15T12:00:00Z', '2027-01-01T00:00:00Z'],
  ])('%s after %s is %s', (text, after, next) => {
    expect(nextFire(parse(text), utc(after))?.toISOString()).toBe(utc(next).toISOString());
  });

  it('says never for a cron that cannot fire again (past years, 30 February)', () => {
    expect(nextFire(parse('cron(0 0 * * ? 2020)'), utc('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(nextFire(parse('cron(0 0 30 FEB ? *)'), utc('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(nextFire(parse('cron(59 23 31 DEC ? 2199)'), utc('2199-12-31T23:59:00Z'))).toBeUndefined();
  });
});
