import { describe, expect, it } from 'vitest';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { BadRequestError } from '../../../functions/runs/errors.js';
import type { WorkflowStarter } from '../../../functions/runs/ports.js';
import { noDefaultDestinationMessage, RunService } from '../../../functions/runs/service.js';
import { SettingsService } from '../../../functions/runs/settings.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';

const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/mirror-AbCdEf';

function setup(): {
  sets: MemoryImageSets;
  runs: MemoryRunStore;
  vault: MemoryVault;
  service: RunService;
  started: string[];
} {
  const sets = new MemoryImageSets();
  const runs = new MemoryRunStore();
  const vault = new MemoryVault();
  const started: string[] = [];
  const workflow: WorkflowStarter = {
    start: async (runId) => (started.push(runId), `exec-${runId}`),
    stop: async () => undefined,
  };
  let n = 0;
  const service = new RunService({ store: runs, vault, workflow, settings: sets, newId: () => `run-${++n}` });
  return { sets, runs, vault, service, started };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err as Error,
  );
}

describe('settings and the default destination', () => {
  it('reads no default at first, stores one through PUT, and clears it with null', async () => {
    const { sets } = setup();
    const settings = new SettingsService(sets);
    expect(await settings.getSettings()).toEqual({ defaultDestination: null });
    const put = await settings.putSettings({ defaultDestination: { registry: 'mirror.example', prefix: 'team' } });
    expect(put).toEqual({ defaultDestination: { registry: 'mirror.example', prefix: 'team', insecure: false } });
    expect(await settings.getSettings()).toEqual(put);
    expect(await settings.putSettings({ defaultDestination: null })).toEqual({ defaultDestination: null });
    expect(sets.settings).toEqual({ defaultDestination: null });
  });

  it.each([
    [
      { defaultDestination: { registry: 'r.example', credentials: { username: 'u', password: 'p' } } },
      'defaultDestination.credentials:',
    ],
    [{ defaultDestination: { registry: 'bare' } }, 'defaultDestination.registry:'],
    [{ defaultDestination: { registry: 'r.example', extra: true } }, 'defaultDestination:'],
    [{}, 'defaultDestination:'],
    [
      { defaultDestination: { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', insecure: true } },
      'defaultDestination.insecure:',
    ],
  ])('PUT %j is a 400 naming the field, and stores nothing', async (body, field) => {
    const { sets } = setup();
    const err = await rejection(new SettingsService(sets).putSettings(body));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message.startsWith(field)).toBe(true);
    expect(sets.calls).toEqual([]);
  });

  it('keeps credentials given by secret reference', async () => {
    const { sets } = setup();
    await new SettingsService(sets).putSettings({
      defaultDestination: { registry: 'r.example', credentials: { secretArn } },
    });
    expect(sets.settings.defaultDestination?.credentials).toEqual({ secretArn });
  });

  it('refuses a run without destination when no default is set (pinned message), starting nothing', async () => {
    const { service, runs, started } = setup();
    const err = await rejection(service.startRun({ images: ['src.example/app:1'] }));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message).toBe(noDefaultDestinationMessage);
    expect(runs.runs.size).toBe(0);
    expect(started).toEqual([]);
  });

  it('saveAsDefault stores the destination, and a later run without one uses it', async () => {
    const { service, sets, runs } = setup();
    await service.startRun({
      images: ['src.example/app:1'],
      destination: { registry: 'mirror.example:5000', prefix: 'team', credentials: { secretArn } },
      saveAsDefault: true,
    });
    expect(sets.settings.defaultDestination).toEqual({
      registry: 'mirror.example:5000',
      prefix: 'team',
      insecure: false,
      credentials: { secretArn },
    });
    const { view } = await service.startRun({ images: ['src.example/other:2'] });
    const run = runs.runs.get(view.runId)!;
    expect(run.options.destination).toEqual({
      registry: 'mirror.example:5000',
      prefix: 'team',
      insecure: false,
      credentials: { secretArn },
    });
    expect((await runs.getRunRequest(view.runId))!.map((i) => i.destination)).toEqual([
      'mirror.example:5000/team/other:2',
    ]);
  });

  it('a run that names its destination does not touch the default', async () => {
    const { service, sets } = setup();
    await service.startRun({
      images: ['src.example/app:1'],
      destination: { registry: 'one.example' },
      saveAsDefault: true,
    });
    await service.startRun({ images: ['src.example/app:1'], destination: { registry: 'two.example' } });
    expect(sets.settings.defaultDestination?.registry).toBe('one.example');
    expect(sets.calls.filter((c) => c.op === 'putSettings')).toHaveLength(1);
  });

  it('saveAsDefault with inline credentials is a 400 naming the field: no run, no secret, no default', async () => {
    const { service, sets, runs, vault, started } = setup();
    const err = await rejection(
      service.startRun({
        images: ['src.example/app:1'],
        destination: { registry: 'r.example', credentials: { username: 'u', password: 'p' } },
        saveAsDefault: true,
      }),
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.message.startsWith('destination.credentials:')).toBe(true);
    expect(runs.runs.size).toBe(0);
    expect(started).toEqual([]);
    expect(sets.calls).toEqual([]);
    // The same destination without saveAsDefault is fine: its password goes to the vault, bound to the run.
    const { view } = await service.startRun({
      images: ['src.example/app:1'],
      destination: { registry: 'r.example', credentials: { username: 'u', password: 'hunter2-inline' } },
    });
    expect(JSON.stringify(runs.runs.get(view.runId))).not.toContain('hunter2-inline');
    const ref = runs.runs.get(view.runId)!.options.destination.credentials!;
    expect((await vault.resolve(ref)).credential).toMatchObject({ password: 'hunter2-inline' });
  });

  it('saveAsDefault on a service without settings is a 400', async () => {
    const runs = new MemoryRunStore();
    const service = new RunService({
      store: runs,
      vault: new MemoryVault(),
      workflow: { start: async () => 'x', stop: async () => undefined },
    });
    const err = await rejection(
      service.startRun({ images: ['src.example/app:1'], destination: { registry: 'r.example' }, saveAsDefault: true }),
    );
    expect(err.message.startsWith('saveAsDefault:')).toBe(true);
    expect(runs.runs.size).toBe(0);
  });
});
