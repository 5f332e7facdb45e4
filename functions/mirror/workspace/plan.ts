import type { CopyPlan } from '../copy-outcome.js';

// The dry-run plan, pinned in issue 9: `ferry mirror --dry-run --json`, dry-run/plan.json and
// `GET /v1/runs/{id}/plan`. Key order is the pinned one (JSON.stringify keeps insertion order).

/** What a run would do with one image. */
export type PlanAction = 'copy' | 'up-to-date' | 'blocked';

/** Blobs of one image by what a copy would do with them. */
export interface PlanBlobs {
  /** Streamed from the source. */
  readonly copy: number;
  /** Mounted from another repository of the destination registry: no bytes move. */
  readonly mount: number;
  /** Already in the destination repository. */
  readonly present: number;
}

/** One image of the plan (the pinned `images[]` item). */
export interface PlanImage {
  readonly source: string;
  readonly destination: string;
  /** The manifest digest; `null` when it was never resolved (a blocked image named by tag). */
  readonly digest: string | null;
  readonly action: PlanAction;
  readonly blobs: PlanBlobs;
  /** Bytes a copy would stream (mounted and present blobs move none). */
  readonly bytes: number;
}

/** The plan JSON, exactly the shape issue 9 pins. */
export interface Plan {
  readonly images: readonly PlanImage[];
  readonly totals: {
    readonly images: number;
    readonly copy: number;
    readonly upToDate: number;
    readonly bytes: number;
  };
  /** Manifest GETs the plan made at the sources (what Docker Hub counts as pulls). */
  readonly sourceManifestGets: number;
}

/**
 * One image's plan values, independent of the engine: {@link planItemFromCopyPlan} builds it from a
 * {@link CopyPlan}, a blocked image is `{ source, destination, action: 'blocked' }`.
 */
export interface PlanItem {
  readonly source: string;
  readonly destination: string;
  readonly digest?: string;
  readonly action: PlanAction;
  readonly blobs?: PlanBlobs;
  readonly bytes?: number;
  /** Source manifest GETs this image's plan made. */
  readonly manifestGets?: number;
}

/** Blobs of a {@link CopyPlan}'s missing set that the destination registry can mount, and their bytes. */
export interface Mountable {
  readonly blobs: number;
  readonly bytes: number;
}

/**
 * A {@link CopyPlan} as a plan item: `blobs.mount` is the plan's `missing.mountable` (the blobs a
 * copy would mount from another repository of the destination registry), `blobs.copy` and `bytes`
 * the rest of `missing`; `mountable` overrides it. A `tag-kept` plan (the destination tag points
 * elsewhere and is kept) copies nothing, so it is `up-to-date`: the pinned actions have no other
 * word for it.
 */
export function planItemFromCopyPlan(
  image: { readonly source: string; readonly destination: string },
  plan: CopyPlan,
  mountable: Mountable = plan.missing.mountable,
): PlanItem {
  const copying = plan.status === 'would-copy';
  return {
    source: image.source,
    destination: image.destination,
    digest: plan.digest,
    action: copying ? 'copy' : 'up-to-date',
    blobs: copying
      ? { copy: Math.max(0, plan.missing.blobs - mountable.blobs), mount: mountable.blobs, present: plan.present }
      : { copy: 0, mount: 0, present: plan.present },
    bytes: copying ? Math.max(0, plan.missing.bytes - mountable.bytes) : 0,
    manifestGets: plan.manifestGets,
  };
}

/** The plan of a run from its images' plan values, in the order given. */
export function buildPlan(items: readonly PlanItem[]): Plan {
  const images = items.map((item): PlanImage => ({
    source: item.source,
    destination: item.destination,
    digest: item.digest ?? null,
    action: item.action,
    // A blocked image is never looked at: it has no blobs to count.
    blobs:
      item.action === 'blocked'
        ? { copy: 0, mount: 0, present: 0 }
        : { copy: item.blobs?.copy ?? 0, mount: item.blobs?.mount ?? 0, present: item.blobs?.present ?? 0 },
    bytes: item.action === 'copy' ? (item.bytes ?? 0) : 0,
  }));
  return {
    images,
    totals: {
      images: images.length,
      copy: images.filter((i) => i.action === 'copy').length,
      upToDate: images.filter((i) => i.action === 'up-to-date').length,
      bytes: images.reduce((sum, i) => sum + i.bytes, 0),
    },
    sourceManifestGets: items.reduce((sum, i) => sum + (i.manifestGets ?? 0), 0),
  };
}

/** `dry-run/plan.json`: the plan, two-space indented, with a final newline. */
export function formatPlan(plan: Plan): string {
  return `${JSON.stringify(plan, null, 2)}\n`;
}
