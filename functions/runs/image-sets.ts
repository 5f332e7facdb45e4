import { parseDocument } from 'yaml';
import { z } from 'zod';
import { imageSetLimits, parseImageSet } from '../mirror/image-set/document.js';
import { imageSetNamePattern, imageSetNameRule } from './image-set-name.js';
import { BadRequestError, ConflictError, ImageSetNotFoundError } from './errors.js';
import type { ImageSetStore, StoredImageSet } from './image-set-store.js';
import { destinationSchema, validateInput } from './run-request.js';
import { storableDestination } from './settings.js';

export { imageSetNamePattern } from './image-set-name.js';

/**
 * An EventBridge Scheduler recurring expression: `rate(N unit)` or `cron(…)` with its six fields
 * (stricter than the stack's `ferry` context check, which also admits one-off `at(…)`).
 */
export const scheduleExpression = z
  .string()
  .max(256, 'must be at most 256 characters')
  .regex(
    /^(?:rate\([1-9]\d{0,5} (?:minutes?|hours?|days?)\)|cron\([^\s()]+(?: [^\s()]+){5}\))$/,
    'must be "rate(N minutes|hours|days)" or "cron(…)" with six fields',
  );

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

  constructor(store: ImageSetStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * Validates and stores a set (nothing is written when anything is invalid: the document's
   * ImageSetError names its path). Each PUT makes the next version; a conditional write makes
   * sure two concurrent PUTs never claim the same one.
   */
  async putImageSet(name: string, input: ImageSetInput): Promise<ImageSetView> {
    checkName(name);
    const { config, destination, schedule, warnings } = parseInput(input);
    for (let attempt = 0; attempt < maxPutAttempts; attempt++) {
      const current = await this.#store.getImageSet(name);
      const now = this.#now().toISOString();
      const set: StoredImageSet = {
        name,
        version: (current?.version ?? 0) + 1,
        createdAt: current?.createdAt ?? now,
        updatedAt: now,
        config,
        ...(destination === undefined ? {} : { destination }),
        ...(schedule === undefined ? {} : { schedule }),
      };
      if (await this.#store.putImageSet(set, current?.version ?? 0))
        return { ...set, ...(warnings.length > 0 ? { warnings } : {}) };
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
