import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { FakeClock } from '../support/fake-clock.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { api, type RunView, startService, waitForRun } from '../support/service.js';

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 97);
const minute = 60_000;
// The schedules' clock only: runs, the workflow and HTTP keep real time.
const clock = new FakeClock('2026-06-30T23:58:00Z');
let server: RunningServer;
beforeAll(async () => {
  server = await startService({ clock });
});
afterAll(() => server.close());

async function runs(): Promise<RunView[]> {
  const res = await api(server.url, 'GET', '/v1/runs?limit=100');
  expect(res.status).toBe(200);
  return (res.json as { runs: RunView[] }).runs;
}

/** Moves the schedules' clock, then waits until what the fires started is under way (no sleeps). */
async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  await server.drain();
}

describe('ferry serve: a stored image set with a schedule runs on it', () => {
  it('fires rate(5 minutes) from the PUT: a run of the set copies its images; a DELETE stops it', async () => {
    const repo = `sched/app-${rng.int(1e9)}`;
    const image = buildImage({ layers: [rng.bytes(5_000)] });
    await push(src.url, repo, 'v1', image);
    const prefix = `sched${rng.int(1e6)}`;
    const put = await api(server.url, 'PUT', '/v1/image-sets/every-five', {
      config: {
        apiVersion: 'mirror.openshift.io/v2alpha1',
        kind: 'ImageSetConfiguration',
        mirror: { additionalImages: [{ name: `${src.host}/${repo}:v1` }] },
      },
      destination: { registry: dst.host, prefix },
      schedule: 'rate(5 minutes)',
    });
    expect(put.status).toBe(200);
    expect(clock.pending()).toEqual([5 * minute]);

    await advance(5 * minute - 1);
    expect(await runs()).toEqual([]);
    await advance(1);
    const started = await runs();
    expect(started).toHaveLength(1);
    const done = await waitForRun(server.url, started[0]!.runId);
    expect(done.status).toBe('completed');
    // A run of the stored set, recorded by name and version.
    expect((done as RunView & { imageSet?: unknown }).imageSet).toEqual({ name: 'every-five', version: 1 });
    expect(Object.keys(done.images)).toEqual([`${dst.host}/${prefix}/${repo}:v1`]);
    expect(await remoteDigest(dst.url, `${prefix}/${repo}`, 'v1')).toBe(image.digest);

    // Two fires while a run is in progress (both within one advance): the schedule lock lets one
    // run start and the other fire is skipped, as on EventBridge Scheduler.
    await advance(10 * minute);
    const overlapping = await runs();
    expect(overlapping).toHaveLength(2);
    await Promise.all(overlapping.map((r) => waitForRun(server.url, r.runId)));
    // Re-armed: with the last run finished, the next fire starts the next run.
    await advance(5 * minute);
    const third = await runs();
    expect(third).toHaveLength(3);
    await Promise.all(third.map((r) => waitForRun(server.url, r.runId)));

    expect((await api(server.url, 'DELETE', '/v1/image-sets/every-five')).status).toBe(204);
    expect(clock.pending()).toEqual([]);
    await advance(30 * minute);
    expect(await runs()).toHaveLength(3);
  });

  it('a PUT without schedule removes the timer; a bad schedule is a 400 naming it and arms nothing', async () => {
    const config = {
      apiVersion: 'mirror.openshift.io/v2alpha1',
      kind: 'ImageSetConfiguration',
      mirror: { additionalImages: [{ name: `${src.host}/sched/none:v1` }] },
    };
    const before = clock.pending();
    expect(
      (await api(server.url, 'PUT', '/v1/image-sets/hourly', { config, schedule: 'cron(0 * * * ? *)' })).status,
    ).toBe(200);
    const toNextHour = 60 * minute - (clock.now().getTime() % (60 * minute));
    expect(clock.pending()).toEqual([...before, toNextHour].sort((a, b) => a - b));
    expect((await api(server.url, 'PUT', '/v1/image-sets/hourly', { config })).status).toBe(200);
    expect(clock.pending()).toEqual(before);
    const bad = await api(server.url, 'PUT', '/v1/image-sets/hourly', { config, schedule: 'rate(1 hours)' });
    expect(bad.status).toBe(400);
    expect((bad.json as { message: string }).message).toMatch(/^schedule: /);
    expect(clock.pending()).toEqual(before);
  });

  it('arms the stored sets again when a server starts on the same data directory (a rate counted from its last PUT)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ferry-sched-'));
    try {
      const first = new FakeClock('2026-06-30T12:00:00Z');
      const before = await startService({ clock: first, dataDir });
      const config = {
        apiVersion: 'mirror.openshift.io/v2alpha1',
        kind: 'ImageSetConfiguration',
        mirror: { additionalImages: [{ name: `${src.host}/sched/kept:v1` }] },
      };
      for (const name of ['kept-a', 'kept-b', 'plain'])
        await api(before.url, 'PUT', `/v1/image-sets/${name}`, {
          config,
          ...(name === 'plain' ? {} : { schedule: name === 'kept-a' ? 'rate(1 hour)' : 'cron(0 0 1 * ? *)' }),
        });
      await before.close();
      // 20 minutes after the PUT (12:00): the hourly rate fires at 13:00, the monthly cron on 1 July.
      const later = new FakeClock('2026-06-30T12:20:00Z');
      const after = await startService({ clock: later, dataDir });
      try {
        expect(later.pending()).toEqual([40 * minute, 11 * 60 * minute + 40 * minute]);
      } finally {
        await after.close();
      }
      expect(later.pending()).toEqual([]);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
