import { decodeImagePageToken, encodeImagePageToken } from './image-page-token.js';
import { maxResponseBodyBytes } from './limits.js';
import type { ImageRecord, ImageStatus, RunRecord } from './model.js';
import { unwrittenImages } from './plan-images.js';
import type { ImageSlice, RunStore } from './store.js';

/** A page of what a run's images render to, and the token of the next page when there is more. */
export interface RenderedPage<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/** What to page: the listing the token is bound to, how many items at most, a status filter, the previous page's token. */
export interface PageRequest {
  readonly listing: string;
  readonly limit: number;
  readonly status?: ImageStatus;
  readonly nextToken?: string;
}

/** How many images one store read asks for. */
const sliceSize = 1_000;

/**
 * Pages a run's images in index order, rendered (an image may render to nothing: it still
 * counts as read), until `limit` items or {@link maxResponseBodyBytes} of them (`bytes` measures
 * one item as the response will carry it): a page never exceeds the API's response budget,
 * whatever the run's size. The token is bound to the run, the listing and the status filter.
 */
export async function pageRendered<T>(
  store: Pick<RunStore, 'pageImages' | 'getImage' | 'getRunRequest'>,
  run: RunRecord,
  request: PageRequest,
  render: (image: ImageRecord) => T | undefined,
  bytes: (item: T) => number,
): Promise<RenderedPage<T>> {
  const scope = { runId: run.runId, listing: request.listing, ...(request.status ? { status: request.status } : {}) };
  let after = request.nextToken === undefined ? undefined : decodeImagePageToken(request.nextToken, scope);
  const items: T[] = [];
  let used = 0;
  const planned = await unwrittenImages(store, run);
  for (;;) {
    const slice = await readSlice(store, run.runId, planned, {
      limit: Math.min(sliceSize, request.limit - items.length),
      ...(after === undefined ? {} : { after }),
      ...(request.status ? { status: request.status } : {}),
    });
    for (const image of slice.items) {
      const item = render(image);
      if (item !== undefined) {
        const size = bytes(item);
        // The first item always fits (items are far smaller than the budget): every page moves on.
        if (items.length > 0 && used + size > maxResponseBodyBytes)
          return { items, nextToken: encodeImagePageToken({ ...scope, after: after! }) };
        used += size;
        items.push(item);
      }
      after = image.index;
      if (items.length >= request.limit) {
        const more = slice.more || image !== slice.items[slice.items.length - 1];
        return more ? { items, nextToken: encodeImagePageToken({ ...scope, after }) } : { items };
      }
    }
    if (!slice.more || slice.items.length === 0) return { items };
  }
}

/**
 * Every image of a run (for runs small enough to show whole), including those its Plan has not
 * written yet (listed from its request as pending).
 */
export async function allImages(
  store: Pick<RunStore, 'pageImages' | 'getImage' | 'getRunRequest'>,
  run: RunRecord,
): Promise<ImageRecord[]> {
  const planned = await unwrittenImages(store, run);
  const images: ImageRecord[] = [];
  for (let more = true; more;) {
    const last = images[images.length - 1];
    const slice = await readSlice(store, run.runId, planned, {
      limit: sliceSize,
      ...(last === undefined ? {} : { after: last.index }),
    });
    images.push(...slice.items);
    more = slice.more && slice.items.length > 0;
  }
  return images;
}

/** One slice of the run's images: from the store, or from the request while Plan has not written them (`planned`). */
async function readSlice(
  store: Pick<RunStore, 'pageImages'>,
  runId: string,
  planned: readonly ImageRecord[] | undefined,
  query: { limit: number; after?: number; status?: ImageStatus },
): Promise<ImageSlice> {
  if (planned === undefined) return store.pageImages(runId, query);
  const matching = planned.filter(
    (i) => (query.after === undefined || i.index > query.after) && (query.status ?? i.status) === i.status,
  );
  return { items: matching.slice(0, query.limit), more: matching.length > query.limit };
}
