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
beforeAll(async () => {
  limited = await startRateLimitedRegistry(src.url, { limit: 5, windowSeconds: 1 });
});
afterAll(async () => {
  await limited.close();
});

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
});
