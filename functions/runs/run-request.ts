import { z } from 'zod';
import { describeError } from '../oci/errors.js';
import { parsePlatform } from '../oci/manifest.js';
import { type ImageReference, parseImageReference, parseLocation } from '../oci/reference.js';

/** A request the caller got wrong: answered 400 with this message, nothing written. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

const secretRef = z.strictObject({ secretArn: z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, 'must be a Secrets Manager secret ARN') });
const inline = z.strictObject({ username: z.string().min(1), password: z.string().min(1) });
export const credentialInput = z.union([secretRef, inline], { error: 'must be {"secretArn": "…"} or {"username": "…", "password": "…"}' });
export type CredentialInput = z.infer<typeof credentialInput>;

const hostPattern = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d{1,5})?$/;
const prefixPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** `POST /v1/runs` (pinned shape). */
export const runRequestSchema = z.strictObject({
  images: z.array(z.string()).min(1, 'needs at least one image').max(10_000, 'at most 10000 images per run'),
  destination: z.strictObject({
    registry: z.string().regex(hostPattern, 'must be a registry host[:port]'),
    prefix: z.string().regex(prefixPattern, 'must be a lowercase repository path').optional(),
    insecure: z.boolean().default(false),
    credentials: credentialInput.optional(),
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN').optional(),
  }),
  sourceCredentials: z.record(z.string().regex(hostPattern, 'keys must be registry hosts'), credentialInput).default({}),
  platforms: z.array(z.string()).default([]),
  referrers: z.boolean().default(false),
  override: z.boolean().default(true),
  failFast: z.boolean().default(false),
  dryRun: z.boolean().default(false),
});
export type RunRequest = z.infer<typeof runRequestSchema>;

export interface ValidatedRunRequest {
  readonly request: RunRequest;
  readonly sources: ImageReference[];
}

/** The largest request body accepted (a 10,000-image run fits comfortably). */
export const maxBodyBytes = 1024 * 1024;

/** Parses and validates a run request; every problem names its field. */
export function parseRunRequest(body: string | null | undefined): ValidatedRunRequest {
  const request = parseJsonBody(body, runRequestSchema);
  const sources = request.images.map((image, i) => {
    const location = (() => {
      try {
        return parseLocation(image);
      } catch (err) {
        throw new BadRequestError(`images[${i}]: ${describeError(err)}`);
      }
    })();
    if (location.kind !== 'registry') throw new BadRequestError(`images[${i}]: "${image}" is not a registry image (oci: layouts are for the CLI)`);
    return location.ref;
  });
  request.platforms.forEach((platform, i) => {
    try {
      parsePlatform(platform);
    } catch (err) {
      throw new BadRequestError(`platforms[${i}]: ${describeError(err)}`);
    }
  });
  try {
    parseImageReference(`${request.destination.registry}/${request.destination.prefix ?? 'x'}/x:x`);
  } catch (err) {
    throw new BadRequestError(`destination: ${describeError(err)}`);
  }
  return { request, sources };
}

/** Parses a JSON body against a schema, with 400s that name the field. */
export function parseJsonBody<T extends z.ZodType>(body: string | null | undefined, schema: T): z.infer<T> {
  if (body === null || body === undefined || body.trim() === '') throw new BadRequestError('request body is required (JSON)');
  if (Buffer.byteLength(body) > maxBodyBytes) throw new BadRequestError(`request body is larger than ${maxBodyBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
    throw new BadRequestError(`${path === '' ? 'body' : path}: ${issue.message}`);
  }
  return parsed.data;
}
