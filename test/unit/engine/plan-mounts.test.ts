import { describe, expect, it } from 'vitest';
import { MemoryMountLedger, OrderedMountLedger } from '../../../functions/mirror/copy-plan.js';
import { createCopier } from '../../../functions/mirror/engine.js';
import type { Repository, RepositoryRef } from '../../../functions/oci/repository.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { addImage, bytes } from './images.js';

const at = (repository: Repository, reference: string): RepositoryRef => ({ repository, reference });
const none = { blobs: 0, bytes: 0 };

describe('CopyPlan.missing.mountable', () => {
  it('counts every missing blob when the source is another repository of the destination registry', async () => {
    const source = new MemoryRepository('library/app', { registry: 'one.test' });
    const destination = new MemoryRepository('mirror/library/app', { registry: 'one.test' });
    const base = bytes('base', 900);
    const image = addImage(source, { tag: 'v1', layers: [base, bytes('app', 100)] });
    destination.addBlob(base);
    const plan = await createCopier().plan(at(source, 'v1'), at(destination, 'v1'));
    const [config, , app] = image.blobs;
    expect(plan.missing).toEqual({
      blobs: 2,
      bytes: config!.size + app!.size,
      mountable: { blobs: 2, bytes: config!.size + app!.size },
    });
    expect(plan.present).toBe(1);
  });

  it('counts none across registries without a ledger', async () => {
    const source = new MemoryRepository('library/app', { registry: 'src.test' });
    const destination = new MemoryRepository('mirror/library/app', { registry: 'dst.test' });
    addImage(source, { tag: 'v1', layers: 2 });
    const plan = await createCopier().plan(at(source, 'v1'), at(destination, 'v1'));
    expect(plan.missing.blobs).toBe(3);
    expect(plan.missing.mountable).toEqual(none);
  });

  it('counts a blob an earlier image of the run walked in another repository, in image order however plans finish', async () => {
    const base = bytes('base', 1_000);
    const sourceA = new MemoryRepository('library/a', { registry: 'src.test' });
    const sourceB = new MemoryRepository('library/b', { registry: 'src.test' });
    const a = addImage(sourceA, { tag: 'v1', layers: [base, bytes('a', 10)] });
    addImage(sourceB, { tag: 'v1', layers: [base, bytes('b', 20)] });
    const destA = new MemoryRepository('m/library/a', { registry: 'dst.test' });
    const destB = new MemoryRepository('m/library/b', { registry: 'dst.test' });
    const copier = createCopier();
    const ledger = new OrderedMountLedger(2);
    // The second image is planned first: its settle waits for the first image's.
    const second = copier
      .plan(at(sourceB, 'v1'), at(destB, 'v1'), { mounts: ledger.view(1) })
      .finally(() => ledger.done(1));
    const first = copier
      .plan(at(sourceA, 'v1'), at(destA, 'v1'), { mounts: ledger.view(0) })
      .finally(() => ledger.done(0));
    const [planA, planB] = await Promise.all([first, second]);
    expect(planA.missing.mountable).toEqual(none);
    expect(planA.missing.blobs).toBe(a.blobs.length);
    expect(planB.missing.mountable).toEqual({ blobs: 1, bytes: base.length });
  });

  it('does not wait on an earlier image that was up to date (no walk) or failed', async () => {
    const ledger = new OrderedMountLedger(3);
    ledger.done(0);
    ledger.done(1);
    const blob = { digest: `sha256:${'a'.repeat(64)}`, size: 5 };
    await expect(ledger.view(2).settle('dst.test', 'x', [blob], [blob])).resolves.toEqual(none);
  });

  it('counts a blob only in another repository of the same registry', async () => {
    const ledger = new MemoryMountLedger();
    const blob = { digest: `sha256:${'b'.repeat(64)}`, size: 7 };
    await ledger.settle('dst.test', 'r1', [blob], [blob]);
    expect(await ledger.settle('dst.test', 'r1', [blob], [blob])).toEqual(none);
    expect(await ledger.settle('other.test', 'r2', [blob], [blob])).toEqual(none);
    expect(await ledger.settle('dst.test', 'r2', [blob], [blob])).toEqual({ blobs: 1, bytes: 7 });
  });
});
