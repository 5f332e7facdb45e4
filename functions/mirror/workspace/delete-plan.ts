import { parse } from 'yaml';
import { z } from 'zod';
import { type Digest, isDigest } from '../../oci/digest.js';
import { FerryError } from '../../oci/errors.js';
import { canonicalRegistry, formatReference, type ImageReference, parseImageReference } from '../../oci/reference.js';
import { stringifyYaml } from './cluster-resources.js';
import { dockerTransport } from './mapping.js';

// `delete/delete-images.yaml`, the plan `ferry prune` writes and then carries out: oc-mirror v2's
// DeleteImageList. Source: internal/pkg/api/v2alpha1/type_internal.go (DeleteImageList,
// DeleteItem), internal/pkg/api/v2alpha1/type_image.go (the `type` strings),
// internal/pkg/delete/delete_images.go (WriteDeleteMetaData: items deduplicated by destination
// and sorted by imageReference; DeleteRegistryImages: every item must lie under the delete
// destination), internal/pkg/delete/const.go, and the golden file tests/unit/testdata/delete/delete-images.yaml.

/** Folder and file of the plan inside the workspace (oc-mirror's `deleteImagesYaml`). */
export const deleteImagesPath = 'delete/delete-images.yaml';

const apiVersion = 'mirror.openshift.io/v2alpha1';
const kind = 'DeleteImageList';
/** oc-mirror's ImageType strings; Ferry writes `generic` (its images are additional images to oc-mirror). */
const imageTypes = [
  'ocpReleaseContent',
  'cincinnatiGraph',
  'ocpRelease',
  'operatorCatalog',
  'operatorBundle',
  'operatorRelatedImage',
  'generic',
  'helmImage',
] as const;

/** One manifest a prune deletes. */
export interface DeletePlanItem {
  /** What the tag was mirrored from (oc-mirror's `imageName`): for the reader of the plan. */
  readonly source: string;
  /** The destination reference to delete, `registry/repository:tag` (oc-mirror's `imageReference`, written with `docker://`). */
  readonly destination: string;
  /**
   * The digest the destination tag pointed at when the plan was written. Ferry's addition to the
   * item (oc-mirror ignores fields it does not know): carrying the plan out deletes the tag only
   * if it still points here, and skips and reports a tag that moved.
   */
  readonly digest: Digest;
}

/** Names of the workspace's errors (stable: the Lambda runtime reports `errorType = error.name`). */
export const WorkspaceErrorNames = { deletePlan: 'DeletePlanError' } as const;

/** A delete plan that does not parse or breaks a rule; `path` names the offending field (`items[2].digest`). */
export class DeletePlanError extends FerryError {
  override readonly name = WorkspaceErrorNames.deletePlan;
  readonly code = 'DELETE_PLAN_INVALID';
  constructor(
    readonly path: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`delete plan invalid at ${path === '' ? '(document)' : path}: ${why}`, options);
  }
}

/**
 * The plan's YAML: oc-mirror's DeleteImageList, items deduplicated by destination and sorted by
 * `imageReference` as oc-mirror sorts them, each `{imageName, imageReference, type: generic,
 * digest}`. Key order and indentation follow oc-mirror's golden file.
 *
 * @see github.com/openshift/oc-mirror internal/pkg/delete/delete_images.go (WriteDeleteMetaData,
 *   processDeleteItems), internal/pkg/api/v2alpha1/type_internal.go (DeleteImageList, DeleteItem),
 *   tests/unit/testdata/delete/delete-images.yaml.
 */
export function formatDeletePlan(items: readonly DeletePlanItem[]): string {
  const byDestination = new Map<string, DeletePlanItem>();
  for (const item of items) {
    const destination = formatReference(parseImageReference(item.destination));
    if (!byDestination.has(destination)) byDestination.set(destination, item);
  }
  const list = {
    apiVersion,
    kind,
    items: [...byDestination]
      .map(([destination, item]) => ({
        imageName: item.source,
        imageReference: `${dockerTransport}${destination}`,
        type: 'generic',
        digest: item.digest,
      }))
      .sort((a, b) => (a.imageReference < b.imageReference ? -1 : a.imageReference > b.imageReference ? 1 : 0)),
  };
  return stringifyYaml(list);
}

const itemSchema = z.strictObject({
  imageName: z.string().min(1, 'must not be empty'),
  imageReference: z.string().min(1, 'must not be empty'),
  type: z.enum(imageTypes).optional(),
  digest: z.string().refine(isDigest, 'must be a digest (sha256:<64 hex> or sha512:<128 hex>)'),
});
const listSchema = z.strictObject({
  apiVersion: z.literal(apiVersion, `must be ${apiVersion}`),
  kind: z.literal(kind, `must be ${kind}`),
  // A Go writer marshals an empty list as `items: null`.
  items: z.array(itemSchema).nullable(),
});

/** Options of {@link parseDeletePlan}. */
export interface ParseDeletePlanOptions {
  /** `REGISTRY[/PREFIX]` the plan is carried out against: an item outside it is an error, as in oc-mirror. */
  readonly within?: string;
}

/**
 * Reads a delete plan, strictly: the DeleteImageList envelope, no unknown fields, every
 * `imageReference` a registry reference (`docker://` optional) whose digest, if it names one,
 * equals `digest`, no destination twice, and with `within` every destination under it. Any
 * breach throws {@link DeletePlanError} naming the path; nothing is half-read.
 *
 * @see github.com/openshift/oc-mirror internal/pkg/delete/delete_images.go (ReadDeleteMetaData,
 *   and DeleteRegistryImages, whose destination-prefix check `within` is).
 */
export function parseDeletePlan(text: string, options: ParseDeletePlanOptions = {}): DeletePlanItem[] {
  let value: unknown;
  try {
    value = parse(text);
  } catch (err) {
    // The yaml package's message is a line with its position, then an excerpt of the text.
    const why = err instanceof Error ? err.message.split('\n')[0]!.replace(/:$/, '') : String(err);
    throw new DeletePlanError('', `not YAML: ${why}`, { cause: err });
  }
  const parsed = listSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])];
    const why = issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message;
    throw new DeletePlanError(formatPath(path), why);
  }
  const seen = new Set<string>();
  return (parsed.data.items ?? []).map((item, i) => {
    const ref = parseItemReference(item.imageReference, `items[${i}].imageReference`);
    const destination = formatReference({ ...ref, digest: undefined });
    if (ref.digest !== undefined && ref.digest !== item.digest) {
      throw new DeletePlanError(`items[${i}].digest`, `differs from the digest of imageReference (${ref.digest})`);
    }
    if (options.within !== undefined && !isWithin(ref, options.within)) {
      throw new DeletePlanError(`items[${i}].imageReference`, `${destination} is outside ${options.within}`);
    }
    const key = formatReference(ref);
    if (seen.has(key)) throw new DeletePlanError(`items[${i}].imageReference`, `${key} is listed twice`);
    seen.add(key);
    return { source: item.imageName, destination: key, digest: item.digest };
  });
}

function parseItemReference(value: string, path: string): ImageReference {
  // The grammar reads a bare name as `:latest`; a plan that deletes must say what it deletes.
  const last = value.slice(value.lastIndexOf('/') + 1);
  if (!last.includes(':') && !last.includes('@')) throw new DeletePlanError(path, 'names no tag or digest');
  try {
    return parseImageReference(value);
  } catch (err) {
    throw new DeletePlanError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** Whether a destination lies under `REGISTRY[/PREFIX]` (oc-mirror: `strings.HasPrefix(name, deleteDestBase+"/")`). */
function isWithin(ref: ImageReference, target: string): boolean {
  const bare = (target.startsWith(dockerTransport) ? target.slice(dockerTransport.length) : target).replace(/\/+$/, '');
  const slash = bare.indexOf('/');
  const registry = canonicalRegistry((slash < 0 ? bare : bare.slice(0, slash)).toLowerCase());
  const prefix = slash < 0 ? '' : bare.slice(slash + 1);
  return ref.registry === registry && (prefix === '' || ref.repository.startsWith(`${prefix}/`));
}

/** `items[2].digest` from a zod path. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p).slice(0, 100)}`))
    .join('');
}
