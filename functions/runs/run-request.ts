import { z } from 'zod';
import { describeError } from '../oci/errors.js';
import { isEcrHostWithOtherPort, parseEcrHost } from '../oci/ecr-host.js';
import { hasValidPort } from '../oci/host-port.js';
import { parsePlatform } from '../oci/manifest.js';
import { type ImageReference, parseImageReference, parseLocation } from '../oci/reference.js';
import { runSecretPrefix } from './secret-names.js';
import { inlineCredential, sameRegistry } from './credential-binding.js';
import { registryHostPattern } from './registry-host.js';

/** A request the caller got wrong: answered 400 with this message, nothing written. */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/**
 * A Secrets Manager secret ARN: partition, region, account and a secret name in the characters
 * Secrets Manager allows (letters, digits, `/_+=.@-`). The one definition: the stack's
 * `registrySecretArns` check builds on it.
 */
export const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

const secretRef = z.strictObject({
  secretArn: z
    .string()
    .max(2048)
    .regex(secretArnPattern, 'must be a Secrets Manager secret ARN')
    // Run secrets hold other callers' inline credentials: only their own run may use them.
    .refine(
      (arn) => !arn.includes(`:secret:${runSecretPrefix}`),
      `must not name a run secret (${runSecretPrefix}…): those belong to the run that created them`,
    ),
});
export const credentialInput = z.union([secretRef, inlineCredential], {
  error:
    'must be {"secretArn": "…"} or {"username": "…", "password": "…"} (no ":" in the username, no control characters)',
});
export type CredentialInput = z.infer<typeof credentialInput>;

const prefixPattern = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

// An ECR name on another port would be neither ECR (no token, no scope, "insecure" allowed) nor reachable.
const ecrPortMessage = 'is an ECR registry, which listens on port 443 only';

/**
 * A registry host as the API takes it: `host[:port]` with a port in 1-65535, and a dot, a port or
 * `localhost` — as Docker tells a registry from a Docker Hub namespace (`myregistry/app` is
 * `docker.io/myregistry/app`), so a bare name is a mistake, not silently Docker Hub.
 */
const registryHost = z
  .string()
  .max(255, 'must be at most 255 characters')
  .regex(registryHostPattern, 'must be a registry host[:port] (no scheme, user or path)')
  .refine(hasValidPort, 'has a port out of range (1-65535)')
  .refine((host) => !isEcrHostWithOtherPort(host), ecrPortMessage)
  .refine(
    (host) => host.includes('.') || host.includes(':') || host.toLowerCase() === 'localhost',
    'needs a dot or a port (or localhost); a bare name would be a Docker Hub namespace',
  );

/** `POST /v1/runs` (pinned shape). */
export const runRequestSchema = z.strictObject({
  images: z
    .array(z.string().max(2048, 'must be at most 2048 characters'))
    .min(1, 'needs at least one image')
    .max(10_000, 'at most 10000 images per run'),
  destination: z.strictObject({
    registry: registryHost,
    prefix: z
      .string()
      .max(200, 'must be at most 200 characters')
      .regex(prefixPattern, 'must be a lowercase repository path')
      .optional(),
    insecure: z.boolean().default(false),
    credentials: credentialInput.optional(),
    roleArn: z
      .string()
      .max(2048)
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN')
      .optional(),
  }),
  sourceCredentials: z
    .record(registryHost, credentialInput)
    .refine((r) => Object.keys(r).length <= 100, 'at most 100 registries')
    .default({}),
  platforms: z.array(z.string().max(64, 'must be at most 64 characters')).max(32, 'at most 32 platforms').default([]),
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
    if (location.kind !== 'registry')
      throw new BadRequestError(`images[${i}]: "${image}" is not a registry image (oci: layouts are for the CLI)`);
    if (!hasValidPort(location.ref.registry))
      throw new BadRequestError(`images[${i}]: registry ${location.ref.registry} has a port out of range (1-65535)`);
    if (isEcrHostWithOtherPort(location.ref.registry))
      throw new BadRequestError(`images[${i}]: registry ${location.ref.registry} ${ecrPortMessage}`);
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
  // ECR is always TLS with AWS credentials: "insecure" there would only let an interceptor read them.
  // (`host:443` is ECR too: parseEcrHost says so, and other ports were refused above.)
  if (request.destination.insecure && parseEcrHost(request.destination.registry)) {
    throw new BadRequestError('destination.insecure: ECR registries are always reached over verified TLS');
  }
  // One credential per registry: keys that differ only in case (or a Docker Hub alias) are ambiguous.
  const hosts = Object.keys(request.sourceCredentials);
  const twice = hosts.find((h, i) => hosts.findIndex((o) => sameRegistry(o, h)) !== i);
  if (twice !== undefined) throw new BadRequestError(`sourceCredentials: "${twice}" names a registry twice`);
  return { request, sources };
}

/** Parses a JSON body against a schema, with 400s that name the field. */
export function parseJsonBody<T extends z.ZodType>(body: string | null | undefined, schema: T): z.infer<T> {
  if (body === null || body === undefined || body.trim() === '')
    throw new BadRequestError('request body is required (JSON)');
  if (Buffer.byteLength(body) > maxBodyBytes)
    throw new BadRequestError(`request body is larger than ${maxBodyBytes} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new BadRequestError('request body is not valid JSON');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path
      .map((p, i) =>
        typeof p === 'number'
          ? `[${p}]`
          : `${i === 0 ? '' : '.'}${JSON.stringify(String(p).slice(0, 100)).slice(1, -1)}`,
      )
      .join('');
    // A record key that failed its own schema: say which key, and why.
    const message = issue.code === 'invalid_key' ? `key ${issue.issues[0]?.message ?? 'is invalid'}` : issue.message;
    throw new BadRequestError(`${path === '' ? 'body' : path}: ${message}`);
  }
  return parsed.data;
}
