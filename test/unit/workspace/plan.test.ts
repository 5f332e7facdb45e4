import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CopyPlan } from '../../../functions/mirror/copy-outcome.js';
import { buildPlan, formatPlan, planItemFromCopyPlan } from '../../../functions/mirror/workspace/plan.js';
import { parseDigest } from '../../../functions/oci/digest.js';
import { d1, d2, d3, target } from './fixtures.js';

// The shape issue 9 pins, strictly: no key more, none less.
const count = z.number().int().nonnegative();
const pinned = z.strictObject({
  images: z.array(
    z.strictObject({
      source: z.string(),
      destination: z.string(),
      digest: z.string().nullable(),
      action: z.enum(['copy', 'up-to-date', 'blocked']),
      blobs: z.strictObject({ copy: count, mount: count, present: count }),
      bytes: count,
    }),
  ),
  totals: z.strictObject({ images: count, copy: count, upToDate: count, bytes: count }),
  sourceManifestGets: count,
});

const nginx = { source: 'docker.io/library/nginx:1.27.1', destination: `${target}/library/nginx:1.27.1` };
const redis = { source: 'docker.io/library/redis:7.4', destination: `${target}/library/redis:7.4` };
const busybox = { source: 'docker.io/library/busybox:1.36', destination: `${target}/library/busybox:1.36` };

function copyPlan(
  status: CopyPlan['status'],
  digest: string,
  missing: { blobs: number; bytes: number; mountable?: CopyPlan['missing']['mountable'] } = { blobs: 0, bytes: 0 },
  present = 0,
): CopyPlan {
  return {
    digest: parseDigest(digest),
    status,
    missing: { mountable: { blobs: 0, bytes: 0 }, ...missing },
    present,
    manifestGets: 1,
  };
}

describe('buildPlan / formatPlan (dry-run/plan.json)', () => {
  const plan = buildPlan([
    planItemFromCopyPlan(nginx, copyPlan('would-copy', d1, { blobs: 4, bytes: 9_000 }, 2), { blobs: 1, bytes: 2_000 }),
    planItemFromCopyPlan(redis, copyPlan('up-to-date', d2, { blobs: 0, bytes: 0 }, 5)),
    { ...busybox, action: 'blocked' },
  ]);

  it('is the golden JSON, keys in the pinned order', () => {
    expect(formatPlan(plan)).toBe(
      JSON.stringify(
        {
          images: [
            { ...nginx, digest: d1, action: 'copy', blobs: { copy: 3, mount: 1, present: 2 }, bytes: 7_000 },
            { ...redis, digest: d2, action: 'up-to-date', blobs: { copy: 0, mount: 0, present: 5 }, bytes: 0 },
            { ...busybox, digest: null, action: 'blocked', blobs: { copy: 0, mount: 0, present: 0 }, bytes: 0 },
          ],
          totals: { images: 3, copy: 1, upToDate: 1, bytes: 7_000 },
          sourceManifestGets: 2,
        },
        null,
        2,
      ) + '\n',
    );
  });

  it('holds exactly the pinned shape and parses back to itself', () => {
    const text = formatPlan(plan);
    expect(pinned.safeParse(JSON.parse(text)).success).toBe(true);
    expect(JSON.parse(text)).toEqual(plan);
    expect(Object.keys(plan.images[0]!)).toEqual(['source', 'destination', 'digest', 'action', 'blobs', 'bytes']);
    expect(Object.keys(plan)).toEqual(['images', 'totals', 'sourceManifestGets']);
  });

  it('totals an empty plan as zeros', () => {
    expect(buildPlan([])).toEqual({
      images: [],
      totals: { images: 0, copy: 0, upToDate: 0, bytes: 0 },
      sourceManifestGets: 0,
    });
  });

  it('keeps a blocked image’s digest when it was named by one, and counts nothing for it', () => {
    const [image] = buildPlan([
      {
        ...busybox,
        digest: d3,
        action: 'blocked',
        blobs: { copy: 9, mount: 9, present: 9 },
        bytes: 99,
        manifestGets: 0,
      },
    ]).images;
    expect(image).toEqual({
      ...busybox,
      digest: d3,
      action: 'blocked',
      blobs: { copy: 0, mount: 0, present: 0 },
      bytes: 0,
    });
  });

  it('sums source manifest GETs over every image, up-to-date ones included', () => {
    const items = [1, 3, 0].map((gets, i) => ({
      ...nginx,
      destination: `${nginx.destination}${i}`,
      action: 'up-to-date' as const,
      manifestGets: gets,
    }));
    expect(buildPlan(items).sourceManifestGets).toBe(4);
  });
});

describe('planItemFromCopyPlan', () => {
  it('splits the missing blobs into copies and mounts; mounted bytes are not moved', () => {
    expect(
      planItemFromCopyPlan(nginx, copyPlan('would-copy', d1, { blobs: 3, bytes: 600 }, 1), { blobs: 2, bytes: 500 }),
    ).toEqual({
      ...nginx,
      digest: d1,
      action: 'copy',
      blobs: { copy: 1, mount: 2, present: 1 },
      bytes: 100,
      manifestGets: 1,
    });
  });

  it('counts every missing blob as a copy when nothing says it can be mounted', () => {
    const item = planItemFromCopyPlan(nginx, copyPlan('would-copy', d1, { blobs: 3, bytes: 600 }));
    expect(item.blobs).toEqual({ copy: 3, mount: 0, present: 0 });
    expect(item.bytes).toBe(600);
  });

  it("takes the mount count from the plan's missing.mountable by default", () => {
    const plan = copyPlan('would-copy', d1, { blobs: 3, bytes: 600, mountable: { blobs: 1, bytes: 450 } }, 2);
    const item = planItemFromCopyPlan(nginx, plan);
    expect(item.blobs).toEqual({ copy: 2, mount: 1, present: 2 });
    expect(item.bytes).toBe(150);
  });

  it('makes a kept tag (nothing would be copied) up-to-date with no bytes', () => {
    const item = planItemFromCopyPlan(nginx, copyPlan('tag-kept', d1, { blobs: 3, bytes: 600 }, 4));
    expect(item).toMatchObject({ action: 'up-to-date', blobs: { copy: 0, mount: 0, present: 4 }, bytes: 0 });
  });
});
