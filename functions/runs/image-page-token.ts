import { z } from 'zod';
import { InvalidTokenError } from './errors.js';
import { imageStatuses, type ImageStatus } from './model.js';

/**
 * Where a page of a run's images (or of an output made from them: the mapping, the errors)
 * ends: the run, the listing, the status filter and the last image's index. Opaque to callers
 * (base64url JSON); it names no storage key, so every store reads the same token.
 */
export interface ImagePagePosition {
  readonly runId: string;
  /** The listing the token was issued for: `images`, `mapping`, `errors`. */
  readonly listing: string;
  readonly status?: ImageStatus;
  /** The index of the last image of the page: the next one starts after it. */
  readonly after: number;
}

const tokenSchema = z.strictObject({
  r: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
  l: z.string().regex(/^[a-z]{1,16}$/),
  s: z.enum(imageStatuses).optional(),
  a: z.number().int().min(0).max(9_999_999),
});

/** The `nextToken` of a page that ends at image `after`. */
export function encodeImagePageToken(position: ImagePagePosition): string {
  const { runId: r, listing: l, status: s, after: a } = position;
  return Buffer.from(JSON.stringify({ r, l, ...(s === undefined ? {} : { s }), a })).toString('base64url');
}

/**
 * The index a `nextToken` continues after; InvalidTokenError (a 400 naming `nextToken`) for a
 * token this API did not issue for this run, listing and status filter: a token is not a way to
 * read another run, or to page a filter it was not made for.
 */
export function decodeImagePageToken(token: string, expected: Omit<ImagePagePosition, 'after'>): number {
  let parsed: z.infer<typeof tokenSchema>;
  try {
    parsed = tokenSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw new InvalidTokenError(
      'nextToken: not a token this API returned (pass the nextToken of the previous page unchanged)',
    );
  }
  if (parsed.r !== expected.runId || parsed.l !== expected.listing || parsed.s !== expected.status)
    throw new InvalidTokenError(
      `nextToken: issued for another ${parsed.r !== expected.runId ? 'run' : parsed.l !== expected.listing ? 'listing' : 'status filter'} (page with the same run, route and status)`,
    );
  return parsed.a;
}
