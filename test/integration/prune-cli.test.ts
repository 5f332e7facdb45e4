import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { selectTags } from '../../functions/mirror/image-set/policy.js';
import { formatDeletePlan, parseDeletePlan } from '../../functions/mirror/workspace/delete-plan.js';
import { parseDigest } from '../../functions/oci/digest.js';
import { runFerry } from '../support/cli.js';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';

// `npm run build` first: runFerry runs bin/ferry.js on dist/.

const { seed, src, dst } = inject('registries');
const rng = new Rng(seed + 97);
const tags = ['1.0.0', '1.1.0', '1.2.0', 'v1.3.0', '1.4.0', '1.5.0', '1.5.1-rc.1', '1.6.0', 'v1.7.0', '1.8.0', '1.9.0'];
const allTags = [...tags, 'latest', 'edge'];
const lines = (stdout: string): string[] => stdout.split('\n').filter((l) => l !== '');
const jsonLines = (stdout: string): Record<string, unknown>[] =>
  lines(stdout).map((l) => JSON.parse(l) as Record<string, unknown>);

/** The destination's tags straight from the registry (not through Ferry), sorted. */
async function listed(base: string, repository: string): Promise<string[]> {
  const res = await fetch(`${base}/v2/${repository}/tags/list`);
  if (res.status === 404) return [];
  const body = (await res.json()) as { tags: string[] | null };
  return [...(body.tags ?? [])].sort();
}

function setDocument(app: string, extra: string, latest: number): string {
  return `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: ${src.host}/${extra}:keep
  repositories:
    - name: ${src.host}/${app}
      tags:
        latest: ${latest}
`;
}

describe('ferry prune against a real registry', () => {
  const id = rng.int(1e9);
  const app = `prune/app-${id}`;
  const extra = `prune/extra-${id}`;
  const prefix = `mirror-${id}`;
  // Starts with the prefix's text, but is another folder: never listed, never touched.
  const outsidePrefix = `${prefix}-outside`;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-prune-'));
  const workspace = join(dir, 'ws');
  const planFile = join(workspace, 'delete', 'delete-images.yaml');

  beforeAll(async () => {
    for (const tag of allTags)
      await push(src.url, app, tag, buildImage({ layers: [rng.bytes(64)], annotations: { tag } }));
    for (const tag of ['keep', 'stale'])
      await push(src.url, extra, tag, buildImage({ layers: [rng.bytes(64)], annotations: { tag } }));
    // What `latest: 5` selected: mirrored as `ferry mirror` does today.
    const mirrored = selectTags(allTags, { latest: 5 });
    expect(mirrored).toEqual(['1.9.0', '1.8.0', 'v1.7.0', '1.6.0', '1.5.0']);
    const images = [
      ...mirrored.map((t) => `${src.host}/${app}:${t}`),
      `${src.host}/${extra}:keep`,
      `${src.host}/${extra}:stale`,
    ];
    for (const to of [prefix, outsidePrefix]) {
      const result = await runFerry(['mirror', '--to', `${dst.host}/${to}`, ...images]);
      expect(result.code, result.stderr).toBe(0);
    }
    writeFileSync(join(dir, 'set.yaml'), setDocument(app, extra, 3));
  });

  it('plans exactly the fallen-out tags by digest, deletes nothing, then deletes those and only those; a moved tag is skipped', async () => {
    const digestOf = async (repository: string, tag: string): Promise<string> =>
      (await remoteDigest(dst.url, repository, tag))!;
    const before = {
      app: await listed(dst.url, `${prefix}/${app}`),
      extra: await listed(dst.url, `${prefix}/${extra}`),
      outside: await listed(dst.url, `${outsidePrefix}/${app}`),
    };
    expect(before.app).toEqual(['1.5.0', '1.6.0', '1.8.0', '1.9.0', 'v1.7.0']);

    const plan = await runFerry([
      'prune',
      '--config',
      join(dir, 'set.yaml'),
      '--to',
      `${dst.host}/${prefix}`,
      '--workspace',
      workspace,
      '--json',
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const expected = [
      { repository: `${prefix}/${app}`, tag: '1.5.0', source: `${src.host}/${app}:1.5.0` },
      { repository: `${prefix}/${app}`, tag: '1.6.0', source: `${src.host}/${app}:1.6.0` },
      { repository: `${prefix}/${extra}`, tag: 'stale', source: `${src.host}/${extra}:stale` },
    ];
    const expectedItems = await Promise.all(
      expected.map(async (e) => ({
        source: e.source,
        destination: `${dst.host}/${e.repository}:${e.tag}`,
        digest: parseDigest(await digestOf(e.repository, e.tag)),
      })),
    );
    const items = parseDeletePlan(readFileSync(planFile, 'utf8'), { within: `${dst.host}/${prefix}` });
    expect(items).toEqual(expectedItems);
    expect(jsonLines(plan.stdout)).toEqual(expectedItems.map((i) => ({ ...i, action: 'would-delete' })));
    // Planning deleted nothing.
    expect(await listed(dst.url, `${prefix}/${app}`)).toEqual(before.app);
    expect(await listed(dst.url, `${prefix}/${extra}`)).toEqual(before.extra);

    // 1.6.0 moves between the plan and carrying it out.
    const moved = buildImage({ layers: [rng.bytes(64)], annotations: { moved: 'yes' } });
    await push(dst.url, `${prefix}/${app}`, '1.6.0', moved);

    const apply = await runFerry(['prune', '--delete-yaml-file', planFile, '--to', `${dst.host}/${prefix}`, '--json']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(jsonLines(apply.stdout).sort((a, b) => String(a.destination).localeCompare(String(b.destination)))).toEqual([
      { ...expectedItems[0], status: 'deleted' },
      { ...expectedItems[1], status: 'skipped', reason: 'tag moved', current: moved.digest },
      { ...expectedItems[2], status: 'deleted' },
    ]);
    expect(await listed(dst.url, `${prefix}/${app}`)).toEqual(['1.6.0', '1.8.0', '1.9.0', 'v1.7.0']);
    expect(await digestOf(`${prefix}/${app}`, '1.6.0')).toBe(moved.digest);
    expect(await listed(dst.url, `${prefix}/${extra}`)).toEqual(['keep']);
    expect(await remoteDigest(dst.url, `${prefix}/${app}`, expectedItems[0]!.digest)).toBeUndefined();
    // Outside the prefix: the same stale tags, untouched.
    expect(await listed(dst.url, `${outsidePrefix}/${app}`)).toEqual(before.outside);
    expect(before.outside).toContain('1.5.0');
  });

  it('refuses a plan with an item outside --to (exit 2) and deletes nothing', async () => {
    const digest = parseDigest((await remoteDigest(dst.url, `${outsidePrefix}/${app}`, '1.5.0'))!);
    const file = join(dir, 'outside.yaml');
    writeFileSync(
      file,
      formatDeletePlan([{ source: 'x', destination: `${dst.host}/${outsidePrefix}/${app}:1.5.0`, digest }]),
    );
    const result = await runFerry(['prune', '--delete-yaml-file', file, '--to', `${dst.host}/${prefix}`]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
    expect(await remoteDigest(dst.url, `${outsidePrefix}/${app}`, '1.5.0')).toBe(digest);
  });

  it.each([
    [['prune', '--to', '127.0.0.1:5000/m']],
    [['prune', '--config', 'a.yaml', '--delete-yaml-file', 'b.yaml', '--to', '127.0.0.1:5000/m']],
    [['prune', '--config', 'a.yaml']],
  ])('is a usage error (exit 2): %j', async (args) => {
    const result = await runFerry(args);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toBe('');
  });

  describe('on a registry with deletes disabled', () => {
    let registry: RunningRegistry;
    beforeAll(async () => {
      registry = await startRegistry({ kind: 'none' }, undefined, { deleteEnabled: false });
    });
    afterAll(() => registry.stop());

    it('reports the item failed and exits 1; the tag stays', async () => {
      const image = buildImage({ layers: [rng.bytes(32)] });
      await push(registry.url, 'm/app', 'old', image);
      const file = join(dir, 'disabled.yaml');
      const digest = parseDigest(image.digest);
      writeFileSync(file, formatDeletePlan([{ source: 'x', destination: `${registry.host}/m/app:old`, digest }]));
      const result = await runFerry(['prune', '--delete-yaml-file', file, '--to', `${registry.host}/m`, '--json']);
      expect(result.code).toBe(1);
      expect(jsonLines(result.stdout)).toEqual([
        { source: 'x', destination: `${registry.host}/m/app:old`, digest, status: 'failed', error: expect.any(String) },
      ]);
      expect(await listed(registry.url, 'm/app')).toEqual(['old']);
    });
  });
});
