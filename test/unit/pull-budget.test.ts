import { describe, expect, it } from 'vitest';
import { anonymous, StaticCredentials } from '../../functions/oci/auth/credentials.js';
import { silentLogger } from '../../functions/oci/log.js';
import { readRateLimit } from '../../functions/oci/rate-limit.js';
import { pullIdentity } from '../../functions/oci/pull-gate.js';
import { RegistryClient } from '../../functions/oci/registry-client.js';
import { RegistryRepository } from '../../functions/oci/registry-repository.js';
import type { HttpRequest } from '../../functions/oci/transport.js';
import { formatDuration, PullBudget, type PullWait } from '../../functions/mirror/pull-budget.js';
import { MemoryPullBudgetStore } from '../../functions/mirror/pull-budget-state.js';
import { withPullWaitScope } from '../../functions/mirror/pull-wait-scope.js';
import { FakeClock } from './ladder/fake-clock.js';
import { type Answer, scriptedTransport } from './ladder/scripted-transport.js';

const manifest = JSON.stringify({
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
  layers: [],
});
const hours6 = 21_600_000;

/**
 * Docker Hub as far as pulls go, on the fake clock: `limit` manifest GETs per six hours from the
 * first, answered with `ratelimit-*` headers (HEADs too, and they are free); one more is a 429.
 */
function hub(clock: FakeClock, limit: number) {
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;
  const seen = { gets: 0, heads: 0, refusals: 0 };
  const headers = (): Record<string, string> => ({
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'docker-content-digest': `sha256:${'b'.repeat(64)}`,
    'ratelimit-limit': `${limit};w=21600`,
    'ratelimit-remaining': `${limit - used};w=21600`,
  });
  const answer = (req: HttpRequest): Answer => {
    if (req.method === 'HEAD') {
      seen.heads++;
      return { status: 200, headers: headers() };
    }
    seen.gets++;
    if (clock.now() >= windowStart + hours6) {
      windowStart = clock.now();
      used = 0;
    }
    if (used >= limit) {
      seen.refusals++;
      return { status: 429, headers: { ...headers(), 'retry-after': '3600' } };
    }
    used++;
    return { status: 200, headers: headers(), body: manifest };
  };
  return { answer, seen };
}

function setup(limit: number, options: { maxWaitMs?: number; reserve?: number } = {}) {
  const clock = new FakeClock(Date.parse('2026-12-03T12:00:00Z'));
  const registry = hub(clock, limit);
  const { transport, sent } = scriptedTransport(clock, registry.answer);
  const waits: PullWait[] = [];
  const store = new MemoryPullBudgetStore();
  const budget = new PullBudget({
    store,
    clock,
    onWait: (w) => waits.push(w),
    ...(options.reserve === undefined ? {} : { reserve: options.reserve }),
    ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: () => options.maxWaitMs! }),
  });
  const client = new RegistryClient('reg.test', transport, anonymous, silentLogger, budget);
  const repo = new RegistryRepository(client, 'library/app');
  return { clock, registry, sent, waits, budget, store, repo, transport };
}

describe('readRateLimit: the headers registries send', () => {
  it("reads Docker Hub's `100;w=21600` / `76;w=21600`", () => {
    expect(readRateLimit({ 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' })).toEqual({
      limit: 100,
      remaining: 76,
      windowMs: hours6,
    });
  });

  it("reads the IETF draft's RateLimit-Limit/-Remaining/-Reset, lists of policies included", () => {
    expect(
      readRateLimit({ 'ratelimit-limit': '10, 10;w=1, 50;w=60', 'ratelimit-remaining': '4', 'ratelimit-reset': '7' }),
    ).toEqual({ limit: 10, remaining: 4, windowMs: 1000, resetMs: 7000 });
    expect(readRateLimit({ ratelimit: 'limit=100, remaining=50, reset=30' })).toEqual({
      limit: 100,
      remaining: 50,
      resetMs: 30_000,
    });
  });

  it('reads nothing from no headers, half of them, or garbage', () => {
    expect(readRateLimit({})).toBeUndefined();
    expect(readRateLimit({ 'ratelimit-limit': '100;w=21600' })).toBeUndefined();
    expect(readRateLimit({ 'ratelimit-limit': 'lots', 'ratelimit-remaining': '3' })).toBeUndefined();
  });
});

describe('PullBudget around the registry client', () => {
  it('waits for the window instead of collecting a 429, and says how long: "0 left, resets in 5h 59m"', async () => {
    const { clock, registry, waits, repo } = setup(3);
    await repo.getManifest('v1');
    clock.advance(30_000);
    await repo.getManifest('v2');
    await repo.getManifest('v3');
    expect(registry.seen.gets).toBe(3);
    await repo.getManifest('v4'); // the budget is spent: waits out the window on the clock, then probes
    expect(registry.seen.refusals).toBe(0);
    expect(registry.seen.gets).toBe(4);
    expect(waits.map((w) => w.message)).toEqual(['waiting for reg.test pull budget: 0 left, resets in 5h 59m']);
    expect(waits[0]).toMatchObject({ registry: 'reg.test', repository: 'library/app', remaining: 0, limit: 3 });
    expect(clock.sleeps).toEqual([hours6 - 30_000]);
  });

  it("waits as long as the IETF draft's RateLimit-Reset says", async () => {
    const clock = new FakeClock();
    let left = 2;
    const { transport, sent } = scriptedTransport(clock, (): Answer => {
      if (left === 0) return { status: 429 };
      left--;
      const headers = { 'RateLimit-Limit': '2', 'RateLimit-Remaining': String(left), 'RateLimit-Reset': '30' };
      return {
        status: 200,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
        body: manifest,
      };
    });
    const waits: PullWait[] = [];
    const budget = new PullBudget({ store: new MemoryPullBudgetStore(), clock, onWait: (w) => waits.push(w) });
    const repo = new RegistryRepository(
      new RegistryClient('reg.test', transport, anonymous, silentLogger, budget),
      'a',
    );
    await repo.getManifest('v1');
    await repo.getManifest('v1');
    const third = repo.getManifest('v1');
    left = 2; // the registry's window resets while Ferry waits
    await third;
    expect(waits.map((w) => w.message)).toEqual(['waiting for reg.test pull budget: 0 left, resets in 30s']);
    expect(clock.sleeps).toEqual([30_000]);
    expect(sent).toHaveLength(3);
  });

  it('spends nothing on HEADs: Docker Hub counts GETs of manifests only', async () => {
    const { registry, waits, repo, clock } = setup(2);
    await repo.getManifest('v1');
    for (let i = 0; i < 10; i++) await repo.headManifest('v1');
    await repo.getManifest('v1');
    expect(registry.seen).toMatchObject({ gets: 2, heads: 10, refusals: 0 });
    expect(waits).toEqual([]);
    expect(clock.sleeps).toEqual([]);
  });

  it('a wait longer than the copy may wait fails the pull with a PullBudgetError, and no GET is sent', async () => {
    const { registry, repo } = setup(1, { maxWaitMs: 14 * 60_000 });
    await repo.getManifest('v1');
    const error = await repo.getManifest('v2').catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'PullBudgetError', code: 'PULL_BUDGET', retryable: false });
    expect((error as Error).message).toBe(
      'reg.test/library/app: reg.test pull budget spent (0 of 1 left, resets in 6h 0m), longer than this copy may wait (14m 0s)',
    );
    expect(registry.seen.gets).toBe(1);
  });

  it("a copy's scope caps the wait at its task's time left, and hears the wait the process reports once", async () => {
    const { registry, repo, waits } = setup(1);
    await repo.getManifest('v1');
    const heard: string[] = [];
    const error = await withPullWaitScope({ remainingMs: () => 5 * 60_000, onWait: (w) => heard.push(w.message) }, () =>
      repo.getManifest('v2'),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'reg.test/library/app: reg.test pull budget spent (0 of 1 left, resets in 6h 0m), longer than this copy may wait (5m 0s)',
    );
    expect(registry.seen.gets).toBe(1);
    expect(heard).toEqual([]);
    // Without a limit, the same copy waits, and both its scope and the process hear of it.
    await withPullWaitScope({ onWait: (w) => heard.push(w.message) }, () => repo.getManifest('v2'));
    expect(heard).toEqual(['waiting for reg.test pull budget: 0 left, resets in 6h 0m']);
    expect(waits).toHaveLength(1);
    expect(registry.seen).toMatchObject({ gets: 2, refusals: 0 });
  });

  it('keeps a reserve: waits once the budget is down to it', async () => {
    const { registry, waits, repo } = setup(4, { reserve: 2 });
    await repo.getManifest('v1');
    await repo.getManifest('v2');
    expect(waits).toEqual([]);
    await repo.getManifest('v3');
    expect(waits.map((w) => w.remaining)).toEqual([2]);
    expect(registry.seen.refusals).toBe(0);
  });

  it('a first reading is lowered by the GETs still in flight: concurrent first pulls never overspend', async () => {
    const budget = new PullBudget({ store: new MemoryPullBudgetStore(), maxWaitMs: () => 0 });
    const pull = { registry: 'reg.test', identity: 'anonymous', repository: 'a', reference: 'v1' };
    // Four GETs go out before anything is known (limit 5); the first answer says 4 left, but three
    // more are on their way: one pull is left, not four.
    for (let i = 0; i < 4; i++) await budget.acquire(pull);
    await budget.settle(pull, { status: 200, reading: { limit: 5, remaining: 4, windowMs: 60_000 } });
    await budget.acquire(pull);
    await expect(budget.acquire(pull)).rejects.toMatchObject({ name: 'PullBudgetError' });
  });

  it('a 429 without headers spends the rest of a known window', async () => {
    const clock = new FakeClock();
    let n = 0;
    const { transport } = scriptedTransport(
      clock,
      (): Answer => {
        n++;
        if (n === 1)
          return {
            status: 200,
            headers: { 'ratelimit-limit': '100;w=60', 'ratelimit-remaining': '50;w=60' },
            body: manifest,
          };
        return n === 2 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200, body: manifest };
      },
      { retry: { attempts: 2 } },
    );
    const store = new MemoryPullBudgetStore();
    const budget = new PullBudget({ store, clock });
    const repo = new RegistryRepository(
      new RegistryClient('reg.test', transport, anonymous, silentLogger, budget),
      'a',
    );
    await repo.getManifest('v1');
    await repo.getManifest('v2'); // 429, then waits for the window (not the 1 s Retry-After) before the retry
    expect(clock.sleeps[0]).toBe(1000);
    expect(clock.sleeps[1]).toBeGreaterThan(50_000);
  });

  it('asks the store once about a registry that sends no limit, and again once it sends one', async () => {
    const clock = new FakeClock();
    let limited = false;
    const limit: Record<string, string> = { 'ratelimit-limit': '10;w=60', 'ratelimit-remaining': '9;w=60' };
    const { transport } = scriptedTransport(clock, () => ({
      status: 200,
      headers: limited ? limit : {},
      body: manifest,
    }));
    const store = new MemoryPullBudgetStore();
    let reads = 0;
    const counted = {
      read: (k: Parameters<typeof store.read>[0]) => (reads++, store.read(k)),
      write: store.write.bind(store),
    };
    const budget = new PullBudget({ store: counted, clock });
    const repo = new RegistryRepository(
      new RegistryClient('reg.test', transport, anonymous, silentLogger, budget),
      'a',
    );
    for (let i = 0; i < 5; i++) await repo.getManifest('v1');
    expect(reads).toBe(1);
    limited = true;
    await repo.getManifest('v1'); // unmetered still: the answer brings the limit
    await repo.getManifest('v1');
    expect(await budget.known('reg.test')).toMatchObject({ limit: 10, remaining: 8 });
  });

  it('keeps one budget per identity, keyed by a hash: never the user name or password', async () => {
    const clock = new FakeClock();
    const { transport } = scriptedTransport(clock, () => ({
      status: 200,
      headers: { 'ratelimit-limit': '10;w=60', 'ratelimit-remaining': '9;w=60' },
      body: manifest,
    }));
    const store = new MemoryPullBudgetStore();
    const budget = new PullBudget({ store, clock });
    const alice = new StaticCredentials(new Map([['reg.test', { kind: 'basic', username: 'alice', password: 'pw1' }]]));
    for (const credentials of [anonymous, alice])
      await new RegistryRepository(
        new RegistryClient('reg.test', transport, credentials, silentLogger, budget),
        'a',
      ).getManifest('v1');
    const aliceId = pullIdentity({ kind: 'basic', username: 'alice', password: 'pw1' });
    expect(aliceId).toMatch(/^[0-9a-f]{16}$/);
    expect(pullIdentity({ kind: 'basic', username: 'alice', password: 'other' })).toBe(aliceId);
    expect(await store.read({ registry: 'reg.test', identity: 'anonymous' })).toBeDefined();
    expect(await store.read({ registry: 'reg.test', identity: aliceId })).toBeDefined();
    expect(await budget.known('reg.test')).toMatchObject({ limit: 10, remaining: 9 });
  });
});

describe('formatDuration', () => {
  it('rounds down to what "resets in" may promise', () => {
    expect(formatDuration(hours6 - 30_000)).toBe('5h 59m');
    expect(formatDuration(12 * 60_000 + 5_900)).toBe('12m 5s');
    expect(formatDuration(999)).toBe('0s');
  });
});
