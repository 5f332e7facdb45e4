import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cleanEnv, runFerry } from '../support/cli.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type RateLimitedRegistry, startRateLimitedRegistry } from '../support/rate-limited-registry.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 1101);

// Five pulls per one-second window: a run of 12 images needs three windows or more. The window is
// the stand-in's own (Ferry learns it from the headers and waits it out on its real clock): the
// test itself never waits for time, it only runs the CLI to its end.
let limited: RateLimitedRegistry;
// Docker Hub's own numbers for the dry runs: 100 per six hours, so the window outlasts the test.
let hub: RateLimitedRegistry;
beforeAll(async () => {
  limited = await startRateLimitedRegistry(src.url, { limit: 5, windowSeconds: 1 });
  hub = await startRateLimitedRegistry(src.url, { limit: 100, windowSeconds: 21_600 });
});
afterAll(async () => {
  await limited.close();
  await hub.close();
});

/** Three images in the source registry (what the stand-ins serve), and their names. */
async function threeImages(name: string): Promise<string[]> {
  const names = [0, 1, 2].map((i) => `budget/${name}-${rng.int(1e9)}/app${i}`);
  for (const n of names) await push(src.url, n, 'v1', buildImage({ layers: [rng.bytes(1_000)] }));
  return names;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('ferry mirror against a pull-limited upstream', () => {
  it('a run larger than the budget waits for the window: every image copied, no 429 received', async () => {
    const prefix = `budget/cli-${rng.int(1e9)}`;
    const names = Array.from({ length: 12 }, (_, i) => `${prefix}/app${i}`);
    const images = names.map(() => buildImage({ layers: [rng.bytes(1_500)] }));
    for (const [i, name] of names.entries()) await push(src.url, name, 'v1', images[i]!);

    const result = await runFerry(
      ['mirror', '--to', `${dst.host}/mirror`, '--concurrency', '4', ...names.map((n) => `${limited.host}/${n}:v1`)],
      cleanEnv(),
    );

    expect(result.code, result.stderr).toBe(0);
    for (const [i, name] of names.entries())
      expect(await remoteDigest(dst.url, `mirror/${name}`, 'v1')).toBe(images[i]!.digest);
    expect(limited.refusals()).toBe(0);
    expect(limited.pulls()).toBeGreaterThanOrEqual(12);
    expect(result.stderr).toMatch(
      new RegExp(`ferry: waiting for ${limited.host.replace('.', '\\.')} pull budget: 0 left, resets in \\d+s`),
    );
  });

  it('a dry run says what the run will cost against the budget it learnt, and copies nothing', async () => {
    const names = await threeImages('dry');
    const before = hub.pulls();
    const result = await runFerry(
      // One image at a time: with GETs in flight before the first answer, the count Ferry keeps is
      // lower than the registry's by up to the others in flight (PullBudget's WARNING), never higher.
      [
        'mirror',
        '--dry-run',
        '--concurrency',
        '1',
        '--to',
        `${dst.host}/dry`,
        ...names.map((n) => `${hub.host}/${n}:v1`),
      ],
      cleanEnv(),
    );
    expect(result.code, result.stderr).toBe(0);
    const left = 100 - hub.pulls();
    expect(hub.pulls() - before).toBeGreaterThanOrEqual(3);
    expect(result.stderr).toContain(`dry run: 3 images: 3 to copy`);
    expect(result.stderr).toContain(`dry run: ${hub.host}: 3 manifest GETs, budget ${left} left of 100 per 6h`);
    for (const n of names) expect(await remoteDigest(dst.url, `dry/${n}`, 'v1')).toBeUndefined();
  });

  it('--config --dry-run: one line per upstream, "budget unknown" for a registry that sends no limit', async () => {
    const [limitedName] = await threeImages('cfg');
    const [plainName] = await threeImages('cfg-plain');
    const dir = mkdtempSync(join(tmpdir(), 'ferry-budget-'));
    const file = join(dir, 'set.yaml');
    writeFileSync(
      file,
      `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: ${hub.host}/${limitedName}:v1
    - name: ${src.host}/${plainName}:v1
`,
    );
    const result = await runFerry([
      'mirror',
      '--config',
      file,
      '--dry-run',
      '--to',
      `${dst.host}/cfg`,
      '--workspace',
      join(dir, 'ws'),
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(`dry run: ${escape(hub.host)}: 1 manifest GETs, budget \\d+ left of 100 per 6h`),
    );
    expect(result.stderr).toContain(`dry run: ${src.host}: 1 manifest GETs, budget unknown`);
  });
});
