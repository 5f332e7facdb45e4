import semver from 'semver';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { formatPlatform, parsePlatform } from '../../oci/manifest.js';
import { parseImageReference } from '../../oci/reference.js';
import type { BlockedImage } from './blocked.js';
import { ImageSetError } from './errors.js';
import { checkPattern } from './pattern.js';
import type { TagPolicy } from './policy.js';

/** One `mirror.additionalImages` entry: oc-mirror's `AdditionalImage` (name, platforms). */
export interface AdditionalImage {
  /** A reference by tag or digest. */
  name: string;
  /** `os/arch` strings, from oc-mirror's `[{os, architecture}]`; absent: every platform. */
  platforms?: string[];
}

/** One `mirror.repositories` entry (Ferry's own section): the tags of a repository chosen by a policy. */
export interface RepositoryPolicy {
  /** A repository name, no tag or digest (`docker.io/library/nginx`). */
  name: string;
  tags: TagPolicy;
  /** `os/arch[/variant]` strings, as `--platform`; absent: every platform. */
  platforms?: string[];
}

/** What an image-set document selects (docs/image-sets.md "Types shared by the slices"). */
export interface ImageSet {
  additionalImages: AdditionalImage[];
  blockedImages: BlockedImage[];
  repositories: RepositoryPolicy[];
}

/**
 * Limits on a document (the API stores documents and runs them on schedules, so they are hostile
 * input): sized so that a valid document fits a DynamoDB item (400 KB) and every list is walked
 * in milliseconds.
 */
export const imageSetLimits = {
  /** Bytes of YAML/JSON text (or of the value serialised as JSON). */
  documentBytes: 256 * 1024,
  additionalImages: 2000,
  blockedImages: 500,
  repositories: 500,
  /** include / exclude patterns per repository. */
  patterns: 50,
  platforms: 16,
  /** A reference: 255 for the name (the grammar's limit), a 128-character tag, a digest. */
  nameLength: 512,
  semverLength: 256,
  platformLength: 64,
  latest: 10_000,
  /** YAML aliases expanded (a billion-laughs document stops here). */
  yamlAliases: 100,
} as const;

export const apiVersion = 'mirror.openshift.io/v2alpha1';
export const kind = 'ImageSetConfiguration';

/** Sections oc-mirror defines that Ferry does not implement yet: accepted, ignored, one warning each. */
const ignoredTopLevel: Readonly<Record<string, string>> = {
  archiveSize: 'archives are an oc-mirror mirror-to-disk setting; Ferry writes none',
};
const ignoredInMirror: Readonly<Record<string, string>> = {
  platform: 'OpenShift release payloads are not mirrored yet',
  operators: 'operator catalogs are not mirrored yet',
  helm: 'Helm charts are not mirrored yet',
  samples: 'samples are not implemented (by oc-mirror either)',
};

const referenceName = z
  .string()
  .min(1)
  .max(imageSetLimits.nameLength)
  .superRefine((value, ctx) => {
    try {
      parseImageReference(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
    }
  });

const repositoryName = referenceName.superRefine((value, ctx) => {
  const name = value.startsWith('docker://') ? value.slice('docker://'.length) : value;
  if (name.includes('@') || name.lastIndexOf(':') > name.lastIndexOf('/')) {
    ctx.addIssue({ code: 'custom', message: `"${value}" names a tag or digest: a repository has neither` });
  }
});

const pattern = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const why = checkPattern(value);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why });
  });

const platformString = z
  .string()
  .max(imageSetLimits.platformLength)
  .transform((value, ctx) => {
    try {
      return formatPlatform(parsePlatform(value));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  });

/** oc-mirror's `InstancePlatformFilter`: `{os, architecture}`. */
const platformObject = z
  .strictObject({
    os: z.string().min(1).max(imageSetLimits.platformLength),
    architecture: z.string().min(1).max(imageSetLimits.platformLength),
  })
  .transform(({ os, architecture }, ctx) => {
    try {
      return formatPlatform(parsePlatform(`${os}/${architecture}`));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
      return z.NEVER;
    }
  });

/** A field oc-mirror has and Ferry refuses rather than silently mirroring somewhere else. */
const unsupported = (why: string) =>
  z
    .unknown()
    .superRefine((_, ctx) => ctx.addIssue({ code: 'custom', message: `not supported by Ferry yet: ${why}` }))
    .optional();

/** A list that YAML may leave empty (`additionalImages:` alone is null), as Go decodes it. */
const list = <T extends z.ZodType>(item: T, max: number) =>
  z
    .array(item)
    .max(max)
    .nullish()
    .transform((v) => v ?? []);

const tagPolicy = z.strictObject({
  include: z.array(pattern).max(imageSetLimits.patterns).optional(),
  exclude: z.array(pattern).max(imageSetLimits.patterns).optional(),
  semver: z
    .string()
    .min(1)
    .max(imageSetLimits.semverLength)
    .refine((v) => semver.validRange(v) !== null, { message: 'not a valid semver range' })
    .optional(),
  latest: z.number().int().positive().max(imageSetLimits.latest).optional(),
});

const documentSchema = z.strictObject({
  apiVersion: z.literal(apiVersion),
  kind: z.literal(kind),
  mirror: z.strictObject({
    additionalImages: list(
      z.strictObject({
        name: referenceName,
        platforms: z.array(platformObject).max(imageSetLimits.platforms).optional(),
        targetRepo: unsupported('destinations follow <registry>/<prefix>/<source path>'),
        targetTag: unsupported('destinations keep the source tag or digest'),
      }),
      imageSetLimits.additionalImages,
    ),
    blockedImages: list(z.strictObject({ name: pattern }), imageSetLimits.blockedImages),
    repositories: list(
      z.strictObject({
        name: repositoryName,
        tags: tagPolicy.optional(),
        platforms: z.array(platformString).max(imageSetLimits.platforms).optional(),
      }),
      imageSetLimits.repositories,
    ),
  }),
});

/** A parsed document and the warnings for the oc-mirror sections it ignored (one per section). */
export interface ParsedImageSet {
  set: ImageSet;
  warnings: string[];
}

/**
 * Parses and validates an image-set document: oc-mirror's `ImageSetConfiguration`
 * (`mirror.openshift.io/v2alpha1`) with Ferry's `mirror.repositories` (issue 9).
 *
 * `input` is YAML or JSON text (a string; `format` picks the parser, YAML by default, which reads
 * JSON too) or an already-decoded value (an API body's `config`). oc-mirror sections Ferry does not
 * implement (`archiveSize`; `mirror.platform`, `operators`, `helm`, `samples`) are dropped with one
 * warning each; every other unknown field, a bad reference, pattern, range, count or platform, or
 * a limit of {@link imageSetLimits} exceeded throws an {@link ImageSetError} whose `path` names the
 * field (`mirror.repositories[2].tags.semvr`).
 */
export function parseImageSet(input: string | unknown, format?: 'yaml' | 'json'): ParsedImageSet {
  const value = typeof input === 'string' ? decode(input, format ?? 'yaml') : input;
  if (typeof input !== 'string') checkSize(value);
  const warnings: string[] = [];
  const parsed = documentSchema.safeParse(dropIgnored(value, warnings));
  if (!parsed.success) {
    // An unknown field is usually the typo behind a missing one (`nam` for `name`): name it first.
    const { issues } = parsed.error;
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
    const path = formatPath([...issue.path, ...keys]);
    throw new ImageSetError(path, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message);
  }
  const { mirror } = parsed.data;
  return {
    set: {
      additionalImages: mirror.additionalImages.map(({ name, platforms }) => ({
        name,
        ...(platforms === undefined ? {} : { platforms }),
      })),
      blockedImages: mirror.blockedImages.map(({ name }) => ({ name })),
      repositories: mirror.repositories.map(({ name, tags, platforms }) => ({
        name,
        tags: tags ?? {},
        ...(platforms === undefined ? {} : { platforms }),
      })),
    },
    warnings,
  };
}

function decode(text: string, format: 'yaml' | 'json'): unknown {
  if (Buffer.byteLength(text, 'utf8') > imageSetLimits.documentBytes) {
    throw new ImageSetError('', `document larger than ${imageSetLimits.documentBytes} bytes`);
  }
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ImageSetError('', `not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, merge: false, schema: 'core', prettyErrors: false });
  const error = doc.errors[0];
  if (error !== undefined) throw new ImageSetError('', `not YAML: ${error.message}`, { cause: error });
  try {
    return doc.toJS({ maxAliasCount: imageSetLimits.yamlAliases }) as unknown;
  } catch (err) {
    throw new ImageSetError('', `not YAML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function checkSize(value: unknown): void {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch (err) {
    throw new ImageSetError('', 'not a JSON value', { cause: err });
  }
  if (size > imageSetLimits.documentBytes) {
    throw new ImageSetError('', `document larger than ${imageSetLimits.documentBytes} bytes`);
  }
}

/** A shallow copy without the sections Ferry ignores, one warning for each present. */
function dropIgnored(value: unknown, warnings: string[]): unknown {
  if (!isRecord(value)) return value;
  const top = omit(value, ignoredTopLevel, '', warnings);
  if (isRecord(top.mirror)) top.mirror = omit(top.mirror, ignoredInMirror, 'mirror.', warnings);
  return top;
}

function omit(
  record: Record<string, unknown>,
  ignored: Readonly<Record<string, string>>,
  prefix: string,
  warnings: string[],
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(record)) {
    const why = Object.hasOwn(ignored, key) ? ignored[key] : undefined;
    if (why === undefined) kept[key] = child;
    else warnings.push(`${prefix}${key}: ignored (${why})`);
  }
  return kept;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `["mirror", "repositories", 2, "tags", "semvr"]` → `mirror.repositories[2].tags.semvr`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
