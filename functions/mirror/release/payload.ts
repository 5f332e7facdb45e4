import semver from 'semver';
import { z } from 'zod';
import type { Digest } from '../../oci/digest.js';
import type { Manifest } from '../../oci/manifest.js';
import { parseImageReference } from '../../oci/reference.js';
import type { Repository } from '../../oci/repository.js';
import { readImageFiles } from '../content/layer-files.js';
import { ociArchOf, type ReleaseArch } from './arch.js';
import { ReleaseError } from './errors.js';

// A release image's payload: `release-manifests/image-references` (an ImageStream naming every
// component image by digest) and `release-manifests/release-metadata` (Cincinnati metadata with
// the version). See github.com/openshift/oc (pkg/cli/admin/release/image_mapper.go, new.go).

/** Where the payload's two files live in the release image. */
export const imageReferencesPath = 'release-manifests/image-references';
export const releaseMetadataPath = 'release-manifests/release-metadata';

/** Limits on a payload (hostile input: it comes from whatever image the set names). */
export const payloadLimits = {
  /** Bytes of each file (a real image-references is ~100 KB for ~190 components). */
  fileBytes: 4 * 1024 * 1024,
  components: 2000,
  /** A component name ends up in a tag `<version>-<arch>-<name>` (128 characters at most). */
  componentName: 100,
  version: 64,
} as const;

/** Component names as release tooling writes them (`machine-config-operator`, `rhel-coreos`). */
const componentName = z
  .string()
  .min(1)
  .max(payloadLimits.componentName)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'not a component name (lowercase letters, digits, ".", "_", "-")');

const byDigest = z.string().superRefine((value, ctx) => {
  try {
    if (parseImageReference(value).digest === undefined)
      ctx.addIssue({ code: 'custom', message: `"${value}" is not a reference by digest` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof Error ? err.message : String(err) });
  }
});

const imageReferencesSchema = z.looseObject({
  kind: z.literal('ImageStream'),
  spec: z.looseObject({
    tags: z
      .array(
        z.looseObject({ name: componentName, from: z.looseObject({ kind: z.string().optional(), name: byDigest }) }),
      )
      .min(1)
      .max(payloadLimits.components),
  }),
});

/** Release versions are semver, and become part of tags: no `+` (build metadata is not valid in a tag). */
const releaseVersion = z
  .string()
  .max(payloadLimits.version)
  .refine((v) => semver.valid(v) === v && !v.includes('+'), { message: 'not a release version (semver, no "+")' });

const releaseMetadataSchema = z.looseObject({ version: releaseVersion });

/** One component image of a release: its name in the payload and its image by digest. */
export interface ReleaseComponent {
  readonly name: string;
  /** `quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:…`, as the payload names it. */
  readonly image: string;
}

/** What a release image holds for one architecture. */
export interface ReleasePayload {
  readonly version: string;
  readonly components: ReleaseComponent[];
}

/** The manifest to mirror for an architecture, and the single-arch image whose layers hold the payload. */
export interface ReleaseManifest {
  /** The digest mirrored: the arch's manifest, or for `multi` the index itself. */
  readonly digest: Digest;
  readonly image: Extract<Manifest, { kind: 'image' }>;
}

/**
 * The release manifest of `arch` at `reference` (a tag or digest): a single-arch manifest is used
 * as it is (a release tag names one arch); in an index, the `linux/<arch>` entry, or for `multi`
 * the index itself (its payload read from its first entry: every arch carries the same components
 * by manifest-list digest). An index without the arch is a `RELEASE_ARCH_MISSING` error.
 */
export async function resolveReleaseManifest(
  repository: Repository,
  reference: string,
  arch: ReleaseArch,
): Promise<ReleaseManifest> {
  const top = await repository.getManifest(reference);
  if (top.kind === 'image') return { digest: top.digest, image: top };
  const wanted = ociArchOf(arch);
  const entry =
    wanted === undefined
      ? top.index.manifests[0]
      : top.index.manifests.find((m) => m.platform?.architecture === wanted && m.platform.os === 'linux');
  if (entry === undefined)
    throw new ReleaseError(
      'RELEASE_ARCH_MISSING',
      `release ${repository.display}@${top.digest} has no ${wanted ?? 'image'} manifest for architecture ${arch}`,
    );
  const image = await repository.getManifest(entry.digest);
  if (image.kind !== 'image')
    throw new ReleaseError(
      'RELEASE_PAYLOAD_INVALID',
      `release ${repository.display}@${entry.digest} is a nested index`,
    );
  return { digest: wanted === undefined ? top.digest : image.digest, image };
}

/**
 * Reads the payload of a release manifest: its layers streamed from the top down until both files
 * are found (whiteouts applied; the base layers below are usually never read), the
 * two files validated. A missing file, a component not named by digest, a name twice or a limit
 * exceeded is a `RELEASE_PAYLOAD_INVALID` {@link ReleaseError} naming the image.
 */
export async function readReleasePayload(repository: Repository, manifest: ReleaseManifest): Promise<ReleasePayload> {
  const where = `release ${repository.display}@${manifest.image.digest}`;
  const files = await readImageFiles(repository, manifest.image.image.layers, {
    want: (path) => path === imageReferencesPath || path === releaseMetadataPath,
    maxFileBytes: payloadLimits.fileBytes,
    until: [imageReferencesPath, releaseMetadataPath],
  });
  const references = parseFile(files.get(imageReferencesPath), imageReferencesSchema, where, imageReferencesPath);
  const metadata = parseFile(files.get(releaseMetadataPath), releaseMetadataSchema, where, releaseMetadataPath);
  const seen = new Set<string>();
  for (const tag of references.spec.tags) {
    if (seen.has(tag.name))
      throw new ReleaseError(
        'RELEASE_PAYLOAD_INVALID',
        `${where}: ${imageReferencesPath}: component ${tag.name} twice`,
      );
    seen.add(tag.name);
  }
  return {
    version: metadata.version,
    components: references.spec.tags.map((tag) => ({ name: tag.name, image: tag.from.name })),
  };
}

function parseFile<T extends z.ZodType>(bytes: Buffer | undefined, schema: T, where: string, path: string): z.infer<T> {
  if (bytes === undefined) throw new ReleaseError('RELEASE_PAYLOAD_INVALID', `${where}: no ${path} in its layers`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new ReleaseError('RELEASE_PAYLOAD_INVALID', `${where}: ${path} is not JSON`, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map(String).join('.');
    throw new ReleaseError(
      'RELEASE_PAYLOAD_INVALID',
      `${where}: ${path}: ${at === '' ? '' : `${at}: `}${issue.message}`,
    );
  }
  return parsed.data;
}
