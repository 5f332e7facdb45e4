import { z } from 'zod';
import { describeError } from '../oci/errors.js';
import { isEcrHostWithOtherPort, parseEcrHost } from '../oci/ecr-host.js';
import { hasValidPort } from '../oci/host-port.js';
import { parsePlatform } from '../oci/manifest.js';
import { type ImageReference, parseImageReference, parseLocation, repositoryPathPattern } from '../oci/reference.js';
import { runSecretPrefix, secretArnPattern } from '../contract.js';
import { inlineCredential, sameRegistry } from './credential-binding.js';
import { ImageSetError, parseImageSet } from '../mirror/image-set/document.js';
import { BadRequestError } from './errors.js';
import { imageSetNamePattern, imageSetNameRule } from './image-set-name.js';
import { registryHostPattern } from './registry-host.js';

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

/** Where a run copies to: the one schema of a destination (runs, image sets, the default in settings). */
export const destinationSchema = z.strictObject({
  registry: registryHost,
  prefix: z
    .string()
    .max(200, 'must be at most 200 characters')
    .regex(repositoryPathPattern, 'must be a lowercase repository path')
    .optional(),
  insecure: z.boolean().default(false),
  credentials: credentialInput.optional(),
  roleArn: z
    .string()
    .max(2048)
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN')
    .optional(),
});
export type DestinationInput = z.infer<typeof destinationSchema>;

/** The most images one run holds: listed in the request, or expanded from its image set. */
export const maxRunImages = 10_000;

/** `POST /v1/runs` (pinned shape): exactly one of `images`, `imageSet` and `config` names what to mirror. */
export const runRequestSchema = z.strictObject({
  images: z
    .array(z.string().max(2048, 'must be at most 2048 characters'))
    .min(1, 'needs at least one image')
    .max(maxRunImages, `at most ${maxRunImages} images per run`)
    .optional(),
  /** A stored image set's name (`PUT /v1/image-sets/{name}`). */
  imageSet: z.string().max(63, 'must be at most 63 characters').optional(),
  /** An image-set document sent inline (as JSON), checked as `PUT /v1/image-sets` checks it. */
  config: z.unknown().optional(),
  /** `prune`: delete the destination tags the set no longer selects (a dry run unless `dryRun` is false). */
  action: z.enum(['copy', 'prune']).default('copy'),
  destination: destinationSchema,
  sourceCredentials: z
    .record(registryHost, credentialInput)
    .refine((r) => Object.keys(r).length <= 100, 'at most 100 registries')
    .default({}),
  platforms: z.array(z.string().max(64, 'must be at most 64 characters')).max(32, 'at most 32 platforms').default([]),
  referrers: z.boolean().default(false),
  override: z.boolean().default(true),
  failFast: z.boolean().default(false),
  /** Default: false, and true for `"action": "prune"` (a prune deletes only when asked to). */
  dryRun: z.boolean().optional(),
  /** Stores this run's destination as the default for runs that name none (Siebel's `update_global_config`). */
  saveAsDefault: z.boolean().default(false),
});
/** A validated run request: `dryRun` decided (it defaults by action). */
export type RunRequest = Omit<z.infer<typeof runRequestSchema>, 'dryRun'> & { readonly dryRun: boolean };

/** What a run mirrors: images listed in the request, or an image set expanded when the run starts working. */
export type RunSubject =
  | { readonly kind: 'images'; readonly sources: ImageReference[] }
  | { readonly kind: 'stored-set'; readonly name: string }
  | { readonly kind: 'inline-set'; readonly config: unknown };

export interface ValidatedRunRequest {
  readonly request: RunRequest;
  readonly subject: RunSubject;
}

/** Validates a run request (a parsed JSON value: an API body, a schedule's run, an event's detail); every problem names its field. */
export function parseRunRequest(input: unknown): ValidatedRunRequest {
  const parsed = validateInput(input, runRequestSchema);
  const request: RunRequest = { ...parsed, dryRun: parsed.dryRun ?? parsed.action === 'prune' };
  request.platforms.forEach((platform, i) => {
    try {
      parsePlatform(platform);
    } catch (err) {
      throw new BadRequestError(`platforms[${i}]: ${describeError(err)}`);
    }
  });
  checkDestination(request.destination);
  // One credential per registry: keys that differ only in case (or a Docker Hub alias) are ambiguous.
  const hosts = Object.keys(request.sourceCredentials);
  const twice = hosts.find((h, i) => hosts.findIndex((o) => sameRegistry(o, h)) !== i);
  if (twice !== undefined) throw new BadRequestError(`sourceCredentials: "${twice}" names a registry twice`);
  return { request, subject: runSubject(request) };
}

function runSubject(request: RunRequest): RunSubject {
  const named = (['images', 'imageSet', 'config'] as const).filter((field) => request[field] !== undefined);
  if (named.length !== 1)
    throw new BadRequestError(
      named.length === 0
        ? 'images: required (or name a stored set with imageSet, or send one inline as config)'
        : `body: takes exactly one of images, imageSet or config, not ${named.join(' and ')}`,
    );
  if (request.imageSet !== undefined) {
    if (!imageSetNamePattern.test(request.imageSet)) throw new BadRequestError(`imageSet: ${imageSetNameRule}`);
    return { kind: 'stored-set', name: request.imageSet };
  }
  if (request.config !== undefined) {
    checkImageSetDocument(request.config, 'config');
    return { kind: 'inline-set', config: request.config };
  }
  if (request.action === 'prune')
    throw new BadRequestError(
      'action: "prune" needs an image set (imageSet or config): a list of images selects no tags to keep',
    );
  return { kind: 'images', sources: parseSources(request.images ?? []) };
}

/**
 * Checks an image-set document (a JSON value) as `PUT /v1/image-sets` does; the 400 names the
 * path under `field` (`config.mirror.repositories[2].tags.semvr: …`). Returns its warnings.
 */
export function checkImageSetDocument(config: unknown, field: string): string[] {
  try {
    return parseImageSet(config).warnings;
  } catch (err) {
    if (!(err instanceof ImageSetError)) throw err;
    const why = err.message.replace(/^image set: /, '').slice(err.path === '' ? 0 : err.path.length + 2);
    throw new BadRequestError(`${err.path === '' ? field : `${field}.${err.path}`}: ${why}`, { cause: err });
  }
}

function parseSources(images: readonly string[]): ImageReference[] {
  return images.map((image, i) => {
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
}

/**
 * The checks of a destination beyond its schema (its registry and prefix make references; no
 * "insecure" ECR); `field` names it in the 400s.
 */
export function checkDestination(destination: DestinationInput, field = 'destination'): void {
  try {
    parseImageReference(`${destination.registry}/${destination.prefix ?? 'x'}/x:x`);
  } catch (err) {
    throw new BadRequestError(`${field}: ${describeError(err)}`);
  }
  // ECR is always TLS with AWS credentials: "insecure" there would only let an interceptor read them.
  // (`host:443` is ECR too: parseEcrHost says so, and other ports were refused above.)
  if (destination.insecure && parseEcrHost(destination.registry)) {
    throw new BadRequestError(`${field}.insecure: ECR registries are always reached over verified TLS`);
  }
}

/** Validates a use case's input (a parsed JSON value) against a schema, with 400s that name the field. */
export function validateInput<T extends z.ZodType>(input: unknown, schema: T): z.infer<T> {
  const parsed = schema.safeParse(input);
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
