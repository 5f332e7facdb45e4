import { parseDocument } from 'yaml';
import { z } from 'zod';
import { imageSetLimits, parseImageSet } from '../mirror/image-set/document.js';
import { imageSetNamePattern, imageSetNameRule } from './image-set-name.js';
import { BadRequestError, ConflictError, ImageSetNotFoundError } from './errors.js';
import type { ImageSetStore, StoredImageSet } from './image-set-store.js';
import { destinationSchema, validateInput } from './run-request.js';
import { parseScheduleExpression } from './schedule-expression.js';
import type { SetScheduler } from './set-scheduler.js';
import { storableDestination } from './settings.js';

export { imageSetNamePattern } from './image-set-name.js';

/**
 * An EventBridge Scheduler recurring expression, `rate(…)` or `cron(…)`, checked fully here (a
 * 400 naming `schedule`, not a Scheduler error once the set is stored): see schedule-expression.ts.
 */
export const scheduleExpression = z
  .string()
  .max(256, 'must be at most 256 characters')
  .superRefine((text, ctx) => {
    const parsed = parseScheduleExpression(text);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: parsed.problem });
  });

const putBodySchema = z.strictObject({
  config: z.unknown().refine((v) => v !== undefined && v !== null, 'is required (the image-set document as JSON)'),
  destination: destinationSchema.optional(),
  schedule: scheduleExpression.optional(),
});

/** A `PUT` body: the JSON envelope, or the YAML document itself (`Content-Type: application/yaml`). */
export type ImageSetInput =
  { readonly kind: 'json'; readonly body: unknown } | { readonly kind: 'yaml'; readonly text: string };

/** What the API answers for a set (`warnings`: the document's ignored sections, on PUT only). */
export type ImageSetView = StoredImageSet & { readonly warnings?: string[] };

/** How often a PUT re-reads and retries when concurrent PUTs took the version it meant to write. */
const maxPutAttempts = 5;

/** Stored image sets: `PUT/GET/DELETE /v1/image-sets/{name}`, `GET /v1/image-sets`. */
export class ImageSetService {
  readonly #store: ImageSetStore;
  readonly #now: () => Date;
  readonly #scheduler: SetScheduler | undefined;

  /** `scheduler`: keeps each set's schedule (absent: schedules are stored only, as in unit tests of the store). */
  constructor(store: ImageSetStore, now: () => Date = () => new Date(), scheduler?: SetScheduler) {
    this.#store = store;
    this.#now = now;
    this.#scheduler = scheduler;
  }

  /**
   * Validates and stores a set (nothing is written when anything is invalid: the document's
   * ImageSetError names its path). Each PUT makes the next version; a conditional write makes
   * sure two concurrent PUTs never claim the same one (nor one a deleted set had). Then the set's
   * schedule is applied: created or updated, or removed when the PUT has none.
   */
  async putImageSet(name: string, input: ImageSetInput): Promise<ImageSetView> {
    checkName(name);
    const { config, destination, schedule, warnings } = parseInput(input);
    for (let attempt = 0; attempt < maxPutAttempts; attempt++) {
      const { set: current, version } = await this.#store.getImageSetVersion(name);
      const now = this.#now().toISOString();
      const set: StoredImageSet = {
        name,
        version: version + 1,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        config,
        ...(destination === undefined ? {} : { destination }),
        ...(schedule === undefined ? {} : { schedule }),
      };
      if (await this.#store.putImageSet(set, version)) {
        // After the write: a schedule never fires for a set that is not stored. Should this fail,
        // the set is stored and the client's retry of the PUT applies the schedule again.
        await this.#scheduler?.apply(name, schedule);
        return { ...set, ...(warnings.length > 0 ? { warnings } : {}) };
      }
    }
    throw new ConflictError(`image set ${name} is being written by other requests; retry`);
  }

  async getImageSet(name: string): Promise<StoredImageSet> {
    checkName(name);
    const set = await this.#store.getImageSet(name);
    if (!set) throw new ImageSetNotFoundError(name);
    return set;
  }

  async listImageSets(limit: number, nextToken?: string): Promise<{ imageSets: StoredImageSet[]; nextToken?: string }> {
    const page = await this.#store.listImageSets(limit, nextToken);
    return { imageSets: page.items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
  }

  async deleteImageSet(name: string): Promise<void> {
    checkName(name);
    if (!(await this.#store.deleteImageSet(name))) throw new ImageSetNotFoundError(name);
    await this.#scheduler?.remove(name);
  }
}

/** A name from the URL: never echoed back (it may be anything a client sent). */
function checkName(name: string): void {
  if (!imageSetNamePattern.test(name)) throw new BadRequestError(`name: ${imageSetNameRule}`);
}

function parseInput(input: ImageSetInput): {
  config: unknown;
  destination?: StoredImageSet['destination'];
  schedule?: string;
  warnings: string[];
} {
  if (input.kind === 'yaml') {
    // The parser checks the text (size, YAML, document) and names the path of what it refuses;
    // the document is then stored as the JSON value it decodes to, with the parser's options.
    const { warnings } = parseImageSet(input.text, 'yaml');
    const config: unknown = parseDocument(input.text, { uniqueKeys: true, merge: false, schema: 'core' }).toJS({
      maxAliasCount: imageSetLimits.yamlAliases,
    });
    // Aliases can make the value larger than its text: the stored JSON keeps the document's cap
    // (and the item DynamoDB's 400 KB).
    parseImageSet(config);
    return { config, warnings };
  }
  const body = validateInput(input.body, putBodySchema);
  const { warnings } = parseImageSet(body.config);
  return {
    config: body.config,
    ...(body.destination === undefined ? {} : { destination: storableDestination(body.destination, 'destination') }),
    ...(body.schedule === undefined ? {} : { schedule: body.schedule }),
    warnings,
  };
}
