import { describe, expect, it } from 'vitest';
import { planPrune } from '../../../functions/mirror/prune.js';
import { formatDeletePlan, parseDeletePlan } from '../../../functions/mirror/workspace/delete-plan.js';
import { digestHex } from '../../../functions/oci/digest.js';
import { chartTgz } from '../../support/helm-fixture.js';
import { addImage, addIndex, amd64, arm64 } from '../engine/images.js';
import { fakeLister, fakeMirror, imageSet, mirrorHost, versions } from './harness.js';

const nginx = 'docker.io/library/nginx';
const target = { registry: mirrorHost, prefix: 'mirror' };
const dest = (path: string, tag: string): string => `${mirrorHost}/mirror/${path}:${tag}`;

describe('planPrune', () => {
  it('plans exactly the tags that fell out of the policy (latest: 5 → latest: 3), by digest, and round-trips the plan', async () => {
    const mirror = fakeMirror();
    const digests = mirror.push('mirror/library/nginx', ['1.8.0', '1.9.0', '1.10.0', '1.11.0', '1.12.0']);
    const source = fakeLister({ [nginx]: versions(12) });
    const set = imageSet({ repositories: [{ name: nginx, tags: { latest: 3 } }] });

    const plan = await planPrune(set, { source, destination: mirror.port }, target);

    expect(plan.repositories).toEqual([`${mirrorHost}/mirror/library/nginx`]);
    expect(plan.items).toEqual([
      { source: `${nginx}:1.8.0`, destination: dest('library/nginx', '1.8.0'), digest: digests.get('1.8.0') },
      { source: `${nginx}:1.9.0`, destination: dest('library/nginx', '1.9.0'), digest: digests.get('1.9.0') },
    ]);
    expect(plan.kept).toEqual([]);
    expect(source.calls).toEqual([nginx]);
    const reread = parseDeletePlan(formatDeletePlan(plan.items), { within: `${mirrorHost}/mirror` });
    expect(reread).toEqual(plan.items);
  });

  it('covers additional images: their tags stay, other tags of their repositories go, a digest they name stays', async () => {
    const mirror = fakeMirror();
    const pause = mirror.push('mirror/pause', ['3.9', '3.10']);
    const app = mirror.repo('mirror/org/app');
    const pinned = addImage(app, { tag: 'old', layers: 1 });
    const older = addImage(app, { tag: 'older', layers: 1 });
    const set = imageSet({
      additionalImages: [{ name: 'registry.k8s.io/pause:3.10' }, { name: `quay.io/org/app@${pinned.digest}` }],
    });

    const plan = await planPrune(set, { source: fakeLister({}), destination: mirror.port }, target);

    expect(plan.items).toEqual([
      { source: 'quay.io/org/app:older', destination: dest('org/app', 'older'), digest: older.digest },
      { source: 'registry.k8s.io/pause:3.9', destination: dest('pause', '3.9'), digest: pause.get('3.9') },
    ]);
    expect(plan.kept).toEqual([
      { destination: dest('org/app', 'old'), digest: pinned.digest, reason: 'shared-digest' },
    ]);
  });

  it('keeps an unselected tag whose digest a selected tag shares (a DELETE by digest would take both)', async () => {
    const mirror = fakeMirror();
    const repo = mirror.repo('mirror/library/nginx');
    const digests = mirror.push('mirror/library/nginx', ['1.8.0', '1.10.0', '1.11.0']);
    const shared = addImage(repo, { tag: '1.12.0', layers: 1 });
    repo.tags.set('1.9.0', shared.digest); // the same manifest under a fallen-out tag
    const set = imageSet({ repositories: [{ name: nginx, tags: { latest: 3 } }] });

    const plan = await planPrune(
      set,
      { source: fakeLister({ [nginx]: versions(12) }), destination: mirror.port },
      target,
    );

    expect(plan.items.map((i) => [i.destination, i.digest])).toEqual([
      [dest('library/nginx', '1.8.0'), digests.get('1.8.0')],
    ]);
    expect(plan.kept).toEqual([
      { destination: dest('library/nginx', '1.9.0'), digest: shared.digest, reason: 'shared-digest' },
    ]);
  });

  it("keeps a platform manifest a kept index lists, and a kept image's signature tag; plans a pruned image's", async () => {
    const mirror = fakeMirror();
    const repo = mirror.repo('mirror/library/nginx');
    const index = addIndex(repo, [amd64, arm64], '1.12.0');
    repo.tags.set('1.12.0-amd64', index.children[0]!.digest); // an earlier --platform run
    const old = addImage(repo, { tag: '1.8.0', layers: 1 });
    const keptSig = addImage(repo, { tag: `sha256-${digestHex(index.digest)}.sig`, layers: 1 });
    const oldSig = addImage(repo, { tag: `sha256-${digestHex(old.digest)}.sig`, layers: 1 });
    const set = imageSet({ repositories: [{ name: nginx, tags: { latest: 1 } }] });

    const plan = await planPrune(
      set,
      { source: fakeLister({ [nginx]: versions(12) }), destination: mirror.port },
      target,
    );

    expect(plan.items.map((i) => [i.destination, i.digest])).toEqual(
      [
        [dest('library/nginx', '1.8.0'), old.digest],
        [dest('library/nginx', `sha256-${digestHex(old.digest)}.sig`), oldSig.digest],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    expect(plan.kept).toEqual(
      [
        {
          destination: dest('library/nginx', '1.12.0-amd64'),
          digest: index.children[0]!.digest,
          reason: 'shared-digest',
        },
        {
          destination: dest('library/nginx', `sha256-${digestHex(index.digest)}.sig`),
          digest: keptSig.digest,
          reason: 'referrer',
        },
      ].sort((a, b) => (a.destination < b.destination ? -1 : 1)),
    );
  });

  it('never lists or touches a repository outside the prefix, stale tags or not', async () => {
    const mirror = fakeMirror();
    mirror.push('mirror/library/nginx', ['1.1.0', '1.12.0']);
    const outside = ['library/nginx', 'other/library/nginx', 'mirror2/library/nginx', 'mirrored/library/nginx'];
    for (const path of outside) mirror.push(path, ['1.1.0', '1.2.0']);
    const set = imageSet({ repositories: [{ name: nginx, tags: { latest: 1 } }] });

    const plan = await planPrune(
      set,
      { source: fakeLister({ [nginx]: versions(12) }), destination: mirror.port },
      target,
    );

    expect(mirror.requested).toEqual([`${mirrorHost}/mirror/library/nginx`]);
    for (const path of outside) expect(mirror.repo(path).calls).toEqual([]);
    expect(plan.items.map((i) => i.destination)).toEqual([dest('library/nginx', '1.1.0')]);
  });

  it("keeps what a set's charts select in a repository it shares with an additional image; never covers the chart's own repository", async () => {
    const mirror = fakeMirror();
    const app = mirror.push('mirror/org/app', ['1.0', '2.0', '3.0']);
    mirror.push('mirror/web', ['0.9.0', '1.0.0']);
    const web = await chartTgz({
      dir: 'web',
      files: {
        'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
        'values.yaml': 'image: quay.io/org/app:2.0\n',
      },
    });
    const set = imageSet({
      additionalImages: [{ name: 'quay.io/org/app:1.0' }],
      helm: { repositories: [], local: [{ name: 'web', path: '/charts/web-1.0.0.tgz' }] },
    });
    const read: string[] = [];
    const source = {
      ...fakeLister({}),
      getBytes: () => Promise.reject(new Error('no chart repository in this set')),
      readLocal: (path: string) => (read.push(path), Promise.resolve(web)),
    };

    const plan = await planPrune(set, { source, destination: mirror.port }, target);

    expect(read).toEqual(['/charts/web-1.0.0.tgz']);
    expect(plan.repositories).toEqual([`${mirrorHost}/mirror/org/app`]);
    expect(plan.items).toEqual([
      { source: 'quay.io/org/app:3.0', destination: dest('org/app', '3.0'), digest: app.get('3.0') },
    ]);
    expect(mirror.repo('mirror/web').calls).toEqual([]);
  });

  it('treats blocked images as not selected: a blocked tag an earlier run copied is planned', async () => {
    const mirror = fakeMirror();
    const digests = mirror.push('mirror/library/nginx', ['1.10.0', '1.11.0', '1.12.0']);
    const set = imageSet({
      repositories: [{ name: nginx, tags: { latest: 3 } }],
      blockedImages: [{ name: 'nginx:1\\.11\\.0$' }],
    });

    const plan = await planPrune(
      set,
      { source: fakeLister({ [nginx]: versions(12) }), destination: mirror.port },
      target,
    );

    expect(plan.items).toEqual([
      { source: `${nginx}:1.11.0`, destination: dest('library/nginx', '1.11.0'), digest: digests.get('1.11.0') },
    ]);
  });

  it('plans nothing and HEADs nothing where nothing fell out, or nothing was mirrored yet', async () => {
    const mirror = fakeMirror();
    mirror.push('mirror/library/nginx', ['1.11.0', '1.12.0']);
    const set = imageSet({
      repositories: [
        { name: nginx, tags: { latest: 2 } },
        { name: 'quay.io/org/new', tags: {} },
      ],
    });
    const source = fakeLister({ [nginx]: versions(12), 'quay.io/org/new': ['a', 'b'] });

    const plan = await planPrune(set, { source, destination: mirror.port }, target);

    expect(plan).toEqual({
      repositories: [`${mirrorHost}/mirror/library/nginx`, `${mirrorHost}/mirror/org/new`],
      items: [],
      kept: [],
      untouched: [],
    });
    expect(mirror.repo('mirror/library/nginx').count('headManifest')).toBe(0);
  });

  it('leaves a repository alone (not even listed) when its source lists no tags: a vanished source must not wipe its mirror', async () => {
    const mirror = fakeMirror();
    mirror.push('mirror/library/nginx', ['1.1.0', '1.12.0']);
    mirror.push('mirror/org/gone', ['a', 'b']);
    const set = imageSet({
      repositories: [
        { name: nginx, tags: { latest: 1 } },
        { name: 'quay.io/org/gone', tags: {} },
      ],
    });
    const source = fakeLister({ [nginx]: versions(12), 'quay.io/org/gone': [] });

    const plan = await planPrune(set, { source, destination: mirror.port }, target);

    expect(plan.untouched).toEqual([`${mirrorHost}/mirror/org/gone`]);
    expect(plan.repositories).toEqual([`${mirrorHost}/mirror/library/nginx`]);
    expect(plan.items.map((i) => i.destination)).toEqual([dest('library/nginx', '1.1.0')]);
    expect(mirror.requested).toEqual([`${mirrorHost}/mirror/library/nginx`]);
  });

  it('rejects the whole plan when a source listing fails, before any destination is read', async () => {
    const mirror = fakeMirror();
    mirror.push('mirror/library/nginx', ['1.1.0']);
    const set = imageSet({
      repositories: [
        { name: nginx, tags: {} },
        { name: 'quay.io/org/gone', tags: {} },
      ],
    });

    await expect(
      planPrune(set, { source: fakeLister({ [nginx]: versions(3) }), destination: mirror.port }, target),
    ).rejects.toThrow('NAME_UNKNOWN quay.io/org/gone');
    expect(mirror.requested).toEqual([]);
  });
});
