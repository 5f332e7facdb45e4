import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoPullBudgetStore } from '../../functions/aws/dynamo-pull-budget.js';
import { createRunTable } from '../../functions/aws/dynamo-run-table.js';
import { PullBudget } from '../../functions/mirror/pull-budget.js';
import { MemoryPullBudgetStore, type PullBudgetStore } from '../../functions/mirror/pull-budget-state.js';
import { pullIdentity, type PullRequest } from '../../functions/oci/pull-gate.js';
import { type RunningDynamo, startDynalite, startDynamoDbLocal } from '../support/dynamodb.js';

const start = Date.parse('2026-12-03T12:00:00Z');
let counter = 0;

/** A pull of a fresh budget (one per test: the stores are shared by the tests of an engine). */
function freshPull(): PullRequest {
  counter++;
  return {
    registry: `docker.io`,
    identity: pullIdentity({ kind: 'basic', username: `user${counter}-${Date.now()}`, password: 's3cret' }),
    repository: 'library/busybox',
    reference: '1.36',
  };
}

/** A spender as one Lambda is: its own PullBudget (memory, in-flight counts), the shared store; it never waits. */
const lambda = (store: PullBudgetStore, now: () => number = () => start) =>
  new PullBudget({ store, clock: { now, sleep: () => Promise.resolve(), every: () => () => {} }, maxWaitMs: () => 0 });

type Engine = { store: PullBudgetStore; dynamo?: RunningDynamo; table?: string };

describe.each([
  ['memory', async (): Promise<Engine> => ({ store: new MemoryPullBudgetStore() })],
  ['dynalite', () => dynamoEngine(startDynalite)],
  ['DynamoDB Local', () => dynamoEngine(startDynamoDbLocal)],
])('pull budget on %s (contract)', (_name, open) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await open();
  }, 60_000);
  afterAll(() => engine?.dynamo?.stop());

  it('two concurrent spenders never overspend: 5 left, 2 × 10 GETs at once, exactly 5 go', async () => {
    const pull = freshPull();
    const first = lambda(engine.store);
    const second = lambda(engine.store);
    // What a first response told one of them: 5 left of 100 in a six-hour window.
    await first.acquire(pull);
    await first.settle(pull, { status: 200, reading: { limit: 100, remaining: 5, windowMs: 21_600_000 } });
    const attempts = await Promise.allSettled(
      [first, second].flatMap((spender) => Array.from({ length: 10 }, () => spender.acquire(pull))),
    );
    const went = attempts.filter((a) => a.status === 'fulfilled').length;
    expect(went).toBe(5);
    const refused = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as Error] : []));
    expect(refused).toHaveLength(15);
    expect(refused[0]).toMatchObject({ name: 'PullBudgetError', retryable: false });
    expect(refused[0]!.message).toBe(
      'docker.io/library/busybox: docker.io pull budget spent (0 of 100 left, resets in 6h 0m), longer than this copy may wait (0s)',
    );
  });

  it('a write over a version another writer already replaced is refused', async () => {
    const { registry, identity } = freshPull();
    const key = { registry, identity };
    const state = { limit: 10, remaining: 3, windowMs: 60_000, resetAt: start + 60_000, probing: false };
    expect(await engine.store.write(key, state, undefined)).toBe(true);
    expect(await engine.store.write(key, state, undefined)).toBe(false);
    const read = await engine.store.read(key);
    expect(read?.state).toEqual(state);
    expect(await engine.store.write(key, { ...state, remaining: 2 }, read!.version)).toBe(true);
    expect(await engine.store.write(key, { ...state, remaining: 1 }, read!.version)).toBe(false);
    expect((await engine.store.read(key))?.state.remaining).toBe(2);
  });

  it('a new window starts with one probe; the others wait for its reading, then spend what it says', async () => {
    const pull = freshPull();
    let now = start;
    const spender = lambda(engine.store, () => now);
    await spender.acquire(pull);
    await spender.settle(pull, { status: 200, reading: { limit: 3, remaining: 0, windowMs: 60_000 } });
    now += 60_000;
    await spender.acquire(pull); // the probe
    await expect(lambda(engine.store, () => now).acquire(pull)).rejects.toMatchObject({ name: 'PullBudgetError' });
    await spender.settle(pull, { status: 200, reading: { limit: 3, remaining: 2, windowMs: 60_000 } });
    await spender.acquire(pull);
    await spender.acquire(pull);
    await expect(spender.acquire(pull)).rejects.toMatchObject({ name: 'PullBudgetError' });
  });
});

describe('the run table item', () => {
  it('holds the registry, a hash of the identity and counts, never the user name; TTL set past the window', async () => {
    const engine = await dynamoEngine(startDynalite);
    try {
      const identity = pullIdentity({ kind: 'basic', username: 'alice-hub', password: 'p4ssw0rd' });
      const pull = { registry: 'docker.io', identity, repository: 'library/alpine', reference: 'latest' };
      const spender = lambda(engine.store);
      await spender.acquire(pull);
      await spender.settle(pull, { status: 200, reading: { limit: 100, remaining: 76, windowMs: 21_600_000 } });
      const items = await engine.dynamo!.client.send(new ScanCommand({ TableName: engine.table! }));
      const text = JSON.stringify(items.Items);
      expect(text).toContain(`PULLS#docker.io#${identity}`);
      expect(text).not.toContain('alice-hub');
      expect(text).not.toContain('p4ssw0rd');
      expect(items.Items?.[0]?.expiresAt?.N).toBe(String((start + 21_600_000 + 86_400_000) / 1000));
    } finally {
      await engine.dynamo!.stop();
    }
  });
});

async function dynamoEngine(startEngine: () => Promise<RunningDynamo>): Promise<Engine> {
  const dynamo = await startEngine();
  const table = `pulls-${Date.now()}`;
  await createRunTable(dynamo.client, table);
  return {
    dynamo,
    table,
    store: new DynamoPullBudgetStore({ client: dynamo.client, tableName: table, now: () => start }),
  };
}
