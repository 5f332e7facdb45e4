import semver from 'semver';
import { z } from 'zod';
import { formatPlatform, parsePlatform } from '../../oci/manifest.js';
import { parseImageReference } from '../../oci/reference.js';
import { helmSchema } from '../helm/schema.js';
import { releaseArchitectures } from '../release/arch.js';
import { parseCatalogFilter } from '../operators/filter.js';
import { checkPattern } from './pattern.js';
import { list, unsupported } from './schema-parts.js';

// The shape of an image-set document and its limits; document.ts decodes, warns and maps it to an ImageSet.

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
  /** `mirror.platform.channels` entries, and the length of a channel name. */
  channels: 50,
  channelName: 64,
  /** YAML aliases expanded (a billion-laughs document stops here). */
  yamlAliases: 100,
  /** `mirror.operators` entries, packages per entry and channels per package. */
  operators: 50,
  packages: 1000,
  packageChannels: 100,
} as const;

/** The one `apiVersion` read: oc-mirror v2's (v1alpha2 documents are oc-mirror v1's, with another schema). */
export const apiVersion = 'mirror.openshift.io/v2alpha1';
/** The one `kind` read (oc-mirror's `DeleteImageSetConfiguration` is refused). */
export const kind = 'ImageSetConfiguration';

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

/** A switch oc-mirror has that Ferry does not implement: `false` (oc-mirror's default) is accepted. */
const unsupportedSwitch = (why: string) => z.literal(false, { error: `not supported by Ferry yet: ${why}` }).optional();

const releaseVersion = z
  .string()
  .max(imageSetLimits.semverLength)
  .refine((v) => semver.valid(v) === v, { message: 'not a release version (semver: 4.17.3)' });

/** oc-mirror's `ReleaseChannel` (v2alpha1): the head of a channel, or min..max of it. */
const releaseChannel = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .max(imageSetLimits.channelName)
      .regex(/^[a-z0-9][a-z0-9.-]*$/, 'not a channel name (stable-4.17)'),
    type: z.literal('ocp', { error: 'not supported by Ferry yet: only OCP channels (type: ocp)' }).optional(),
    minVersion: releaseVersion.optional(),
    maxVersion: releaseVersion.optional(),
    shortestPath: unsupportedSwitch('shortest upgrade paths (every release of the range is mirrored)'),
    full: unsupportedSwitch('whole channels (name minVersion/maxVersion)'),
  })
  .refine((c) => c.minVersion === undefined || c.maxVersion === undefined || semver.lte(c.minVersion, c.maxVersion), {
    message: 'minVersion is above maxVersion',
    path: ['minVersion'],
  });

/** oc-mirror's `Platform` (v2alpha1): one release image, or channels; architectures default to amd64. */
const platform = z
  .strictObject({
    release: referenceName.optional(),
    channels: list(releaseChannel, imageSetLimits.channels),
    architectures: list(z.enum(releaseArchitectures), releaseArchitectures.length * 2),
    graph: unsupportedSwitch('the graph-data image'),
    kubeVirtContainer: unsupportedSwitch('the KubeVirt container image'),
  })
  .superRefine((p, ctx) => {
    if (p.release !== undefined && p.channels.length > 0)
      ctx.addIssue({ code: 'custom', message: 'name release or channels, not both', path: ['release'] });
    if (p.release === undefined && p.channels.length === 0)
      ctx.addIssue({ code: 'custom', message: 'names neither a release nor channels' });
  });

// ---- mirror.operators (issue 10): oc-mirror v2alpha1's Operator, IncludePackage, IncludeChannel ----

const bundleVersion = z
  .string()
  .max(imageSetLimits.semverLength)
  .refine((v) => semver.valid(v) !== null, { message: 'not a semantic version (1.2.3)' });
const operatorName = z.string().min(1).max(imageSetLimits.nameLength);

const operatorChannel = z.strictObject({
  name: operatorName,
  minVersion: bundleVersion.optional(),
  maxVersion: bundleVersion.optional(),
});

const operatorPackage = z.strictObject({
  name: operatorName,
  channels: list(operatorChannel, imageSetLimits.packageChannels),
  minVersion: bundleVersion.optional(),
  maxVersion: bundleVersion.optional(),
  defaultChannel: operatorName.optional(),
  selectedBundles: unsupported('selected bundles (name channels or a version range)'),
});

/** oc-mirror's `Operator`: a catalog, where its rebuilt copy goes, what it selects. */
const operatorCatalog = z
  .strictObject({
    catalog: referenceName,
    targetCatalog: z
      .string()
      .max(255)
      .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/, 'not a repository path')
      .optional(),
    targetTag: z
      .string()
      .regex(/^\w[\w.-]{0,127}$/, 'not a tag')
      .optional(),
    full: z.boolean().optional(),
    packages: list(operatorPackage, imageSetLimits.packages),
    skipDependencies: unsupported('dependency resolution (name every package needed)'),
    targetCatalogSourceTemplate: unsupported('CatalogSource templates'),
    originalRef: unsupported('originalRef (a local catalog)'),
  })
  .superRefine((op, ctx) => {
    if (op.targetTag === undefined && !hasTag(op.catalog))
      ctx.addIssue({ code: 'custom', message: 'a catalog without a tag needs a targetTag', path: ['targetTag'] });
    try {
      parseCatalogFilter({ ...(op.full === undefined ? {} : { full: op.full }), packages: op.packages });
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err), path: ['packages'] });
    }
  });

function hasTag(reference: string): boolean {
  try {
    return parseImageReference(reference).tag !== undefined;
  } catch {
    return true; // `catalog` reports the bad reference
  }
}

/** The document's shape (zod, strict: an unknown field is an `unrecognized_keys` issue at its path). */
export const documentSchema = z.strictObject({
  apiVersion: z.literal(apiVersion),
  kind: z.literal(kind),
  /** oc-mirror's mirror-to-disk part size, in GiB (`ferry mirror --to file://DIR`). */
  archiveSize: z.number().positive().max(1024).optional(),
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
    platform: platform.optional(),
    operators: list(operatorCatalog, imageSetLimits.operators),
    /** Helm charts (issue 10): functions/mirror/helm/schema.ts. */
    helm: helmSchema.optional(),
  }),
});
