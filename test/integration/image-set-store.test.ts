import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoImageSets } from '../../functions/aws/dynamo-image-sets.js';
import { createRunTable, DynamoRunStore } from '../../functions/aws/dynamo-run-store.js';
import { InvalidTokenError } from '../../functions/runs/errors.js';
import type { ImageSetStore, SettingsStore, StoredImageSet } from '../../functions/runs/image-set-store.js';
import type { RunRecord } from '../../functions/runs/model.js';
import { type RunningDynamo, startDynalite, startDynamoDbLocal } from '../support/dynamodb.js';
import { MemoryImageSets } from '../support/memory-image-sets.js';
import { inProgressRun } from '../support/run-records.js';

type Store = ImageSetStore & SettingsStore;

/** One store per table; `runs` writes a run into the same table (absent for the in-memory fake). */
interface Subject {
  fresh(): Promise<{ store: Store; runs?: DynamoRunStore }>;
  stop(): Promise<void>;
}

const memory = async (): Promise<Subject> => ({
  fresh: async () => ({ store: new MemoryImageSets() }),
  stop: async () => undefined,
});
const onEngine = (start: () => Promise<RunningDynamo>) => async (): Promise<Subject> => {
  const engine = await start();
  let n = 0;
  return {
    fresh: async () => {
      const tableName = `sets-${Date.now()}-${n++}`;
      await createRunTable(engine.client, tableName);
      return {
        store: new DynamoImageSets({ client: engine.client, name: tableName }),
        runs: new DynamoRunStore({ client: engine.client, tableName }),
      };
    },
    stop: () => engine.stop(),
  };
};

function set(name: string, version: number, config: unknown = { kind: 'ImageSetConfiguration' }): StoredImageSet {
  return {
    name,
    version,
    createdAt: '2026-05-01T00:00:00.000Z',
    updatedAt: `2026-05-01T00:00:0${version}.000Z`,
    config,
  };
}

const run: RunRecord = inProgressRun({ runId: 'run-1', totalImages: 0, startTime: '2026-05-01T00:00:00.000Z' });

describe.each([
  ['memory (the unit tests fake)', memory],
  ['DynamoDB Local', onEngine(startDynamoDbLocal)],
  ['dynalite', onEngine(startDynalite)],
])('image-set store on %s (contract)', (_name, start) => {
  let subject: Subject;
  beforeAll(async () => {
    subject = await start();
  }, 60_000);
  afterAll(() => subject?.stop());

  it('writes version 1 only where no set is, then each version only over the one before', async () => {
    const { store } = await subject.fresh();
    const config = { mirror: { additionalImages: [{ name: 'r.example/ä:1' }], blockedImages: [] }, empty: '', n: 1.5 };
    expect(await store.putImageSet(set('a', 1, config), 0)).toBe(true);
    expect(await store.putImageSet(set('a', 1), 0)).toBe(false);
    expect(await store.getImageSet('a')).toEqual(set('a', 1, config));
    expect(await store.putImageSet(set('a', 2), 1)).toBe(true);
    expect(await store.putImageSet(set('a', 2, { lost: true }), 1)).toBe(false);
    expect(await store.putImageSet(set('a', 4), 3)).toBe(false);
    expect(await store.getImageSet('a')).toEqual(set('a', 2));
  });

  it('lets exactly one of two concurrent writers claim a version', async () => {
    const { store } = await subject.fresh();
    await store.putImageSet(set('race', 1), 0);
    const results = await Promise.all([
      store.putImageSet(set('race', 2, { writer: 1 }), 1),
      store.putImageSet(set('race', 2, { writer: 2 }), 1),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true) + 1;
    expect((await store.getImageSet('race'))?.config).toEqual({ writer: winner });
  });

  it('keeps a destination and a schedule', async () => {
    const { store } = await subject.fresh();
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/mirror-AbCdEf';
    const full: StoredImageSet = {
      ...set('full', 1),
      destination: { registry: 'r.example:5000', prefix: 'team', insecure: false, credentials: { secretArn } },
      schedule: 'cron(0 3 * * ? *)',
    };
    await store.putImageSet(full, 0);
    expect(await store.getImageSet('full')).toEqual(full);
  });

  it('deletes a set once; an absent set reads as undefined', async () => {
    const { store } = await subject.fresh();
    await store.putImageSet(set('d', 1), 0);
    expect(await store.deleteImageSet('d')).toBe(true);
    expect(await store.deleteImageSet('d')).toBe(false);
    expect(await store.getImageSet('d')).toBeUndefined();
    // Versions never repeat: the delete left a tombstone with version 1 (issue 9).
    expect(await store.getImageSetVersion('d')).toEqual({ set: undefined, version: 1 });
    expect(await store.putImageSet(set('d', 1), 0)).toBe(false);
    expect(await store.putImageSet(set('d', 2), 1)).toBe(true);
    expect(await store.getImageSetVersion('d')).toEqual({ set: set('d', 2), version: 2 });
  });

  it('keeps a deleted set out of GET and the listing, and lets exactly one of two PUTs over its tombstone claim a version', async () => {
    const { store } = await subject.fresh();
    for (const name of ['a', 'b', 'c']) await store.putImageSet(set(name, 1), 0);
    await store.putImageSet(set('b', 2), 1);
    expect(await store.deleteImageSet('b')).toBe(true);
    expect(await store.getImageSet('b')).toBeUndefined();
    expect((await store.listImageSets(10)).items.map((s) => s.name)).toEqual(['a', 'c']);
    // Two writers that both read the tombstone's version 2: one claim of 3 wins.
    const claims = await Promise.all([
      store.putImageSet(set('b', 3, { writer: 1 }), 2),
      store.putImageSet(set('b', 3, { writer: 2 }), 2),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims.indexOf(true) + 1;
    expect(await store.getImageSet('b')).toEqual(set('b', 3, { writer: winner }));
    expect((await store.listImageSets(10)).items.map((s) => [s.name, s.version])).toEqual([
      ['a', 1],
      ['b', 3],
      ['c', 1],
    ]);
    // Nothing of the deleted set's content outlives it (the next PUT replaces the item whole).
    expect(await store.deleteImageSet('b')).toBe(true);
    expect(await store.putImageSet({ ...set('b', 4), schedule: 'rate(1 day)' }, 3)).toBe(true);
    expect(await store.getImageSet('b')).toEqual({ ...set('b', 4), schedule: 'rate(1 day)' });
  });

  it('lists sets by name in pages, and no run ever shows up among them (nor a set among runs)', async () => {
    const { store, runs } = await subject.fresh();
    if (runs) await runs.createRun(run, []);
    const names = ['e', 'a', 'd', 'b', 'c'];
    for (const name of names) await store.putImageSet(set(name, 1), 0);
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await store.listImageSets(2, token);
      pages.push(page.items.map((s) => s.name));
      token = page.nextToken;
    } while (token !== undefined && pages.length < 10);
    expect(pages.flat()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(pages[0]).toEqual(['a', 'b']);
    if (runs) {
      const listed = await runs.listRuns(10);
      expect(listed.items.map((r) => r.runId)).toEqual(['run-1']);
      // A token of one listing is refused by the other.
      const setToken = (await store.listImageSets(1)).nextToken!;
      await expect(runs.listRuns(1, setToken)).rejects.toBeInstanceOf(InvalidTokenError);
      await runs.createRun({ ...run, runId: 'run-2' }, []);
      const runToken = (await runs.listRuns(1)).nextToken!;
      await expect(store.listImageSets(1, runToken)).rejects.toBeInstanceOf(InvalidTokenError);
    }
    await expect(store.listImageSets(2, 'Not a token!')).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('reads no default destination at first, then the one stored, then none again', async () => {
    const { store } = await subject.fresh();
    expect(await store.getSettings()).toEqual({ defaultDestination: null });
    const defaultDestination = { registry: 'mirror.example', prefix: 'team', insecure: false };
    await store.putSettings({ defaultDestination });
    expect(await store.getSettings()).toEqual({ defaultDestination });
    await store.putSettings({ defaultDestination: null });
    expect(await store.getSettings()).toEqual({ defaultDestination: null });
  });
});
