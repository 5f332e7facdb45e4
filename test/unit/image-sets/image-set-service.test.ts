import { describe, expect, it } from 'vitest';
import { ImageSetError } from '../../../functions/mirror/image-set/errors.js';
import {
  BadRequestError,
  ConflictError,
  ImageSetNotFoundError,
  InvalidTokenError,
} from '../../../functions/runs/errors.js';
import { ImageSetService } from '../../../functions/runs/image-sets.js';
import { MemoryImageSets } from '../../support/memory-image-sets.js';

const config = {
  apiVersion: 'mirror.openshift.io/v2alpha1',
  kind: 'ImageSetConfiguration',
  mirror: { additionalImages: [{ name: 'registry.example/app:1' }] },
};
const yamlDocument = `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: registry.example/app:1
  repositories:
    - name: registry.example/team/web
      tags:
        semver: '>=1.2.0'
        latest: 3
`;

function setup(): { store: MemoryImageSets; service: ImageSetService; tick: () => void } {
  let t = Date.parse('2026-05-01T00:00:00.000Z');
  const store = new MemoryImageSets();
  return { store, service: new ImageSetService(store, () => new Date(t)), tick: () => (t += 1000) };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('ImageSetService', () => {
  it('stores a set with version 1, then makes version 2 on the next PUT (createdAt kept, updatedAt moved)', async () => {
    const { store, service, tick } = setup();
    const first = await service.putImageSet('nightly', {
      kind: 'json',
      body: { config, destination: { registry: 'mirror.example:5000' }, schedule: 'rate(6 hours)' },
    });
    expect(first).toEqual({
      name: 'nightly',
      version: 1,
      createdAt: '2026-05-01T00:00:00.000Z',
      updatedAt: '2026-05-01T00:00:00.000Z',
      config,
      destination: { registry: 'mirror.example:5000', insecure: false },
      schedule: 'rate(6 hours)',
    });
    tick();
    const second = await service.putImageSet('nightly', { kind: 'json', body: { config } });
    expect(second).toMatchObject({ version: 2, createdAt: first.createdAt, updatedAt: '2026-05-01T00:00:01.000Z' });
    // A PUT replaces the set: the destination and schedule not sent again are gone.
    expect(second).not.toHaveProperty('destination');
    expect(second).not.toHaveProperty('schedule');
    expect(await service.getImageSet('nightly')).toEqual(second);
    expect(store.calls.map((c) => [c.op, c.version, c.made])).toEqual([
      ['put', 1, true],
      ['put', 2, true],
    ]);
  });

  it('stores a YAML document as the JSON value it decodes to', async () => {
    const { service } = setup();
    const view = await service.putImageSet('web', { kind: 'yaml', text: yamlDocument });
    expect(view.config).toEqual({
      apiVersion: 'mirror.openshift.io/v2alpha1',
      kind: 'ImageSetConfiguration',
      mirror: {
        additionalImages: [{ name: 'registry.example/app:1' }],
        repositories: [{ name: 'registry.example/team/web', tags: { semver: '>=1.2.0', latest: 3 } }],
      },
    });
    expect(view.version).toBe(1);
  });

  it("returns the document's warnings for ignored oc-mirror sections on PUT", async () => {
    const { service } = setup();
    const view = await service.putImageSet('ops', {
      kind: 'json',
      body: { config: { ...config, mirror: { ...config.mirror, samples: [] } } },
    });
    expect(view.warnings).toHaveLength(1);
  });

  it('never lets two concurrent PUTs claim one version: the loser re-reads and takes the next', async () => {
    const { store, service } = setup();
    await service.putImageSet('race', { kind: 'json', body: { config } });
    // Another writer lands version 2 between this PUT's read and its write.
    let interfered = false;
    store.beforePut = async (set) => {
      if (interfered) return;
      interfered = true;
      store.sets.set('race', { ...set, config: { other: true } });
    };
    const view = await service.putImageSet('race', { kind: 'json', body: { config } });
    expect(view.version).toBe(3);
    expect(store.calls.map((c) => [c.version, c.made])).toEqual([
      [1, true],
      [2, false],
      [3, true],
    ]);
    expect(store.sets.get('race')?.config).toEqual(config);
  });

  it('answers 409 when other writers keep winning', async () => {
    const { store, service } = setup();
    store.beforePut = async (set) => void store.sets.set(set.name, { ...set, version: set.version + 100 });
    const err = await rejection(service.putImageSet('busy', { kind: 'json', body: { config } }));
    expect(err).toBeInstanceOf(ConflictError);
  });

  it.each([
    ['a wrong kind', { ...config, kind: 'Nope' }, 'kind'],
    [
      'an additional image without a name',
      { ...config, mirror: { additionalImages: [{}] } },
      'mirror.additionalImages[0].name',
    ],
  ])('refuses %s with ImageSetError naming the path, and stores nothing', async (_what, bad, path) => {
    const { store, service } = setup();
    const err = await rejection(service.putImageSet('bad', { kind: 'json', body: { config: bad } }));
    expect(err).toBeInstanceOf(ImageSetError);
    expect((err as ImageSetError).path).toBe(path);
    expect(store.calls).toEqual([]);
  });

  it('refuses a YAML document naming the path', async () => {
    const { store, service } = setup();
    const err = await rejection(
      service.putImageSet('bad', { kind: 'yaml', text: yamlDocument.replace('ImageSetConfiguration', 'Other') }),
    );
    expect((err as ImageSetError).path).toBe('kind');
    expect(store.calls).toEqual([]);
  });

  it.each([
    [{ config, schedule: 'every day' }, 'schedule:'],
    [{ config, schedule: 'cron(0 3 * *)' }, 'schedule:'],
    [{ config, destination: { registry: 'nodot' } }, 'destination.registry:'],
    [
      { config, destination: { registry: 'r.example', credentials: { username: 'u', password: 'p' } } },
      'destination.credentials:',
    ],
    [{ config, extra: 1 }, 'body:'],
    [{ destination: { registry: 'r.example' } }, 'config:'],
  ])('refuses %j with a 400 naming the field, storing nothing', async (body, field) => {
    const { store, service } = setup();
    const err = await rejection(service.putImageSet('bad', { kind: 'json', body }));
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message.startsWith(field)).toBe(true);
    expect(store.calls).toEqual([]);
  });

  it('keeps a destination whose credentials are a secret reference', async () => {
    const { service } = setup();
    const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/mirror-AbCdEf';
    const view = await service.putImageSet('ok', {
      kind: 'json',
      body: { config, destination: { registry: 'r.example', credentials: { secretArn } } },
    });
    expect(view.destination?.credentials).toEqual({ secretArn });
  });

  it.each(['../etc', 'UPPER', '-dash', 'dash-', 'a'.repeat(64), 'ünï', 'a.b', '', '%2e%2e'])(
    'refuses the name %j with a 400 and stores nothing',
    async (name) => {
      const { store, service } = setup();
      for (const call of [
        service.putImageSet(name, { kind: 'json', body: { config } }),
        service.getImageSet(name),
        service.deleteImageSet(name),
      ])
        expect(await rejection(call)).toBeInstanceOf(BadRequestError);
      expect(store.calls).toEqual([]);
    },
  );

  it('answers ImageSetNotFoundError for a set that is absent, and after DELETE', async () => {
    const { service } = setup();
    expect(await rejection(service.getImageSet('gone'))).toBeInstanceOf(ImageSetNotFoundError);
    expect(await rejection(service.deleteImageSet('gone'))).toBeInstanceOf(ImageSetNotFoundError);
    await service.putImageSet('gone', { kind: 'json', body: { config } });
    await service.deleteImageSet('gone');
    const err = await rejection(service.getImageSet('gone'));
    expect(err).toBeInstanceOf(ImageSetNotFoundError);
    expect((err as ImageSetNotFoundError).code).toBe('IMAGE_SET_NOT_FOUND');
  });

  it('lists sets by name in pages', async () => {
    const { service } = setup();
    for (const name of ['c', 'a', 'e', 'b', 'd']) await service.putImageSet(name, { kind: 'json', body: { config } });
    const names: string[][] = [];
    let token: string | undefined;
    do {
      const page = await service.listImageSets(2, token);
      names.push(page.imageSets.map((s) => s.name));
      token = page.nextToken;
    } while (token);
    expect(names).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(await rejection(service.listImageSets(2, 'not a token'))).toBeInstanceOf(InvalidTokenError);
    // A page goes on after its token's name even when that set was deleted meanwhile.
    await service.deleteImageSet('b');
    expect((await service.listImageSets(2, 'b')).imageSets.map((s) => s.name)).toEqual(['c', 'd']);
  });
});

describe('ImageSetService: YAML aliases', () => {
  it('refuses a YAML document whose aliases expand past the document cap, storing nothing', async () => {
    const { store, service } = setup();
    // A few KB of text; 99 aliases (an ignored section holds them) make it ~400 KB as JSON.
    const names = Array.from({ length: 10 }, (_, i) => `    - name: registry.example/${'p'.repeat(230)}${i}:1`);
    const aliases = Array.from({ length: 99 }, () => '      - *all').join('\n');
    const text = `apiVersion: mirror.openshift.io/v2alpha1\nkind: ImageSetConfiguration\nmirror:\n  additionalImages: &all\n${names.join('\n')}\n  samples:\n${aliases}\n`;
    expect(Buffer.byteLength(text)).toBeLessThan(8 * 1024);
    const err = await rejection(service.putImageSet('aliases', { kind: 'yaml', text }));
    expect(err).toBeInstanceOf(ImageSetError);
    expect((err as ImageSetError).path).toBe('');
    expect(store.calls).toEqual([]);
  });
});
