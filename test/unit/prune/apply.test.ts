import { describe, expect, it } from 'vitest';
import { applyPrune, planPrune, type PruneItemResult } from '../../../functions/mirror/prune.js';
import type { DeletePlanItem } from '../../../functions/mirror/workspace/delete-plan.js';
import type { Digest } from '../../../functions/oci/digest.js';
import { DeleteDisabledError } from '../../../functions/oci/errors.js';
import { type ManifestDeleter, registryManifestDeleter } from '../../../functions/oci/manifest-deleter.js';
import type { Repository } from '../../../functions/oci/repository.js';
import { addImage } from '../engine/images.js';
import { fakeLister, fakeMirror, imageSet, mirrorHost, tagsOf, versions } from './harness.js';

const nginx = 'docker.io/library/nginx';
const target = { registry: mirrorHost, prefix: 'mirror' };

/** A mirror with nginx 1.8.0 … 1.12.0 (latest: 5 mirrored) and the plan for latest: 3. */
async function planned() {
  const mirror = fakeMirror();
  const digests = mirror.push('mirror/library/nginx', ['1.8.0', '1.9.0', '1.10.0', '1.11.0', '1.12.0']);
  const outside = mirror.push('other/library/nginx', ['1.8.0', '1.9.0']);
  const set = imageSet({ repositories: [{ name: nginx, tags: { latest: 3 } }] });
  const plan = await planPrune(
    set,
    { source: fakeLister({ [nginx]: versions(12) }), destination: mirror.port },
    target,
  );
  const repo = mirror.repo('mirror/library/nginx');
  repo.calls.length = 0;
  return { mirror, digests, outside, plan, repo };
}

/** A deleter that records what it was asked to delete (as the ECR adapter would be). */
function recordingDeleter(fail?: (digest: Digest) => Error | undefined): ManifestDeleter & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async delete(repository: Repository, digest: Digest) {
      calls.push(`${repository.display}@${digest}`);
      const err = fail?.(digest);
      if (err) throw err;
      await registryManifestDeleter.delete(repository, digest);
    },
  };
}

describe('applyPrune', () => {
  it('deletes the planned digests and nothing else, through the deleter, HEAD before each DELETE', async () => {
    const { mirror, digests, outside, plan, repo } = await planned();
    const deleter = recordingDeleter();
    const seen: PruneItemResult[] = [];

    const results = await applyPrune(
      plan.items,
      { destination: mirror.port, deleter },
      { onResult: (r) => seen.push(r) },
    );

    expect(results.map((r) => [r.destination, r.status])).toEqual([
      [`${mirrorHost}/mirror/library/nginx:1.8.0`, 'deleted'],
      [`${mirrorHost}/mirror/library/nginx:1.9.0`, 'deleted'],
    ]);
    expect(seen).toEqual(results);
    expect(tagsOf(repo)).toEqual(['1.10.0', '1.11.0', '1.12.0']);
    expect(deleter.calls).toEqual([
      `${mirrorHost}/mirror/library/nginx@${digests.get('1.8.0')}`,
      `${mirrorHost}/mirror/library/nginx@${digests.get('1.9.0')}`,
    ]);
    expect(repo.calls.map((c) => `${c.op} ${c.target}`)).toEqual([
      'headManifest 1.8.0',
      `deleteManifest ${digests.get('1.8.0')}`,
      'headManifest 1.9.0',
      `deleteManifest ${digests.get('1.9.0')}`,
    ]);
    expect([...mirror.repo('other/library/nginx').tags]).toEqual([...outside]);
  });

  it('skips a tag that moved since the plan was written, and reports where it points now', async () => {
    const { mirror, digests, plan, repo } = await planned();
    const moved = addImage(repo, { tag: '1.9.0', layers: 1 });
    repo.calls.length = 0;

    const results = await applyPrune(plan.items, { destination: mirror.port, deleter: registryManifestDeleter });

    expect(results[1]).toEqual({
      source: `${nginx}:1.9.0`,
      destination: `${mirrorHost}/mirror/library/nginx:1.9.0`,
      digest: digests.get('1.9.0'),
      status: 'skipped',
      reason: 'tag moved',
      current: moved.digest,
    });
    expect(results[0]!.status).toBe('deleted');
    expect(repo.tags.get('1.9.0')).toBe(moved.digest);
    expect(repo.calls.filter((c) => c.op === 'deleteManifest').map((c) => c.target)).toEqual([digests.get('1.8.0')]);
  });

  it('skips a tag that is gone, and deletes a digest planned under two tags once', async () => {
    const mirror = fakeMirror();
    const repo = mirror.repo('mirror/app');
    const shared = addImage(repo, { tag: 'a', layers: 1 });
    repo.tags.set('b', shared.digest);
    const gone = addImage(repo, { layers: 1 }).digest;
    const items: DeletePlanItem[] = [
      { source: 'quay.io/app:a', destination: `${mirrorHost}/mirror/app:a`, digest: shared.digest },
      { source: 'quay.io/app:b', destination: `${mirrorHost}/mirror/app:b`, digest: shared.digest },
      { source: 'quay.io/app:c', destination: `${mirrorHost}/mirror/app:c`, digest: gone },
    ];

    const results = await applyPrune(items, { destination: mirror.port, deleter: registryManifestDeleter });

    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['deleted', undefined],
      ['deleted', undefined],
      ['skipped', 'tag gone'],
    ]);
    expect(repo.count('deleteManifest')).toBe(1);
    expect(repo.manifests.has(gone)).toBe(true);
  });

  it('reports a refused delete as failed and goes on with the rest', async () => {
    const { mirror, digests, plan, repo } = await planned();
    const refused = digests.get('1.8.0');
    const deleter = recordingDeleter((digest) =>
      digest === refused
        ? new DeleteDisabledError('refused', { registry: mirrorHost, repository: 'mirror/library/nginx', status: 405 })
        : undefined,
    );

    const results = await applyPrune(plan.items, { destination: mirror.port, deleter });

    expect(results.map((r) => r.status)).toEqual(['failed', 'deleted']);
    expect(results[0]!.error).toEqual(expect.any(String));
    expect(tagsOf(repo)).toEqual(['1.10.0', '1.11.0', '1.12.0', '1.8.0']);
    expect(deleter.calls).toHaveLength(2);
  });
});
