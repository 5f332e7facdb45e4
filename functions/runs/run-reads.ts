import { z } from 'zod';
import { RunNotFoundError } from './errors.js';
import { allImages, pageRendered } from './image-pager.js';
import {
  defaultImagePageLimit,
  maxImagePageLimit,
  maxInlineImages,
  maxResponseBodyBytes,
  responseBytesOf,
} from './limits.js';
import { countImages, type ImageRecord, type ImageStatus, imageStatuses, type RunRecord } from './model.js';
import { validateInput } from './run-request.js';
import { imageView, type RunView, toView } from './run-view.js';
import type { RunStore } from './store.js';

/** Query parameters as the API receives them (strings, each optional). */
export type QueryInput = Readonly<Record<string, string | undefined>>;

/** One image of `GET /v1/runs/{id}/images`: its destination and its view (the pinned per-image fields). */
export type ImageEntry = { destination: string } & NonNullable<RunView['images']>[string];

/** A page of `GET /v1/runs/{id}/images`. */
export interface ImagesPage {
  runId: string;
  images: ImageEntry[];
  nextToken?: string;
}

/** Lines of a text output (`/mapping`), and the token of the next page when there is more. */
export interface TextPage {
  text: string;
  nextToken?: string;
}

const limitText = (max: number) =>
  z
    .string()
    .regex(/^\d{1,7}$/, `must be an integer from 1 to ${max}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `must be an integer from 1 to ${max}`);

const imagesQuery = z.object({
  limit: limitText(maxImagePageLimit).optional(),
  nextToken: z.string().max(1024, 'must be at most 1024 characters').optional(),
  status: z.enum(imageStatuses, { error: `must be one of ${imageStatuses.join(', ')}` }).optional(),
});

/** The most lines one `/mapping` page may be asked for; without `limit`, as many as fit the response. */
export const maxTextPageLimit = 100_000;

const textQuery = z.object({
  limit: limitText(maxTextPageLimit).optional(),
  nextToken: z.string().max(1024, 'must be at most 1024 characters').optional(),
});

/** The reads of a run the API serves: the run, its images page by page, its mapping. */
export class RunReads {
  readonly #store: RunStore;

  constructor(store: RunStore) {
    this.#store = store;
  }

  /**
   * The run in its pinned shape, every image inline, for runs of up to {@link maxInlineImages}
   * images; a larger run (or one whose images would not fit a response) has its counts, an
   * empty `images` and `imagesUrl`, where they are paged.
   */
  async getRun(runId: string): Promise<RunView> {
    const run = await this.#run(runId);
    const paged = { ...toView(run), images: {}, imagesUrl: `/v1/runs/${runId}/images` };
    if (run.totalImages > maxInlineImages) return paged;
    const images = await allImages(this.#store, run);
    const inline = Object.fromEntries(images.map((i) => [i.destination, imageView(i)]));
    if (responseBytesOf(inline) > maxResponseBodyBytes) return paged;
    // The images are read anyway, so the counts come from them (the run item's counters are
    // updated per image without a transaction and serve listings).
    return { ...toView(run), ...countImages(images), images: inline };
  }

  /** `GET /v1/runs/{id}/images?limit=&nextToken=&status=`: a page in image order; 400 naming a bad parameter. */
  async imagesPage(runId: string, query: QueryInput): Promise<ImagesPage> {
    const { limit, nextToken, status } = validateInput(query, imagesQuery);
    const run = await this.#run(runId);
    const page = await pageRendered(
      this.#store,
      run,
      {
        listing: 'images',
        limit: limit ?? defaultImagePageLimit,
        ...(status ? { status } : {}),
        ...(nextToken === undefined ? {} : { nextToken }),
      },
      (image): ImageEntry => ({ destination: image.destination, ...imageView(image) }),
      (entry) => responseBytesOf(entry) + 1,
    );
    return { runId, images: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  /** oc-mirror style mapping, `source=destination` per line, a page at a time (see {@link textPage}). */
  async mapping(runId: string, query: QueryInput = {}): Promise<TextPage> {
    return textPage(this.#store, await this.#run(runId), 'mapping', query, (i) => `${i.source}=${i.destination}\n`);
  }

  async #run(runId: string): Promise<RunRecord> {
    const run = await this.#store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return run;
  }
}

/**
 * A line-per-image text output (`/mapping`, `/errors`) a page at a time: as many lines as fit
 * one response (or `limit`), and a `nextToken` when there are more; a run of ordinary size fits
 * one page. `line` renders an image (undefined: no line); `status` reads only images of it.
 */
export async function textPage(
  store: RunStore,
  run: RunRecord,
  listing: string,
  query: QueryInput,
  line: (image: ImageRecord) => string | undefined,
  status?: ImageStatus,
): Promise<TextPage> {
  const { limit, nextToken } = validateInput(query, textQuery);
  const page = await pageRendered(
    store,
    run,
    {
      listing,
      limit: limit ?? maxTextPageLimit,
      ...(status ? { status } : {}),
      ...(nextToken === undefined ? {} : { nextToken }),
    },
    line,
    // Less the quotes of the JSON string the Lambda's result carries the text in: those are counted once, by the page.
    (text) => responseBytesOf(text) - 2,
  );
  return { text: page.items.join(''), ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
}
