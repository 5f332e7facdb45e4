import {
  type ClusterResourceFile,
  formatCatalogSource,
  formatClusterCatalog,
} from '../mirror/operators/cluster-resources.js';
import { formatIdms, formatItms } from '../mirror/workspace/cluster-resources.js';
import type { WorkspaceEntry } from '../mirror/workspace/entry.js';
import { formatMirroringErrors } from '../mirror/workspace/mirroring-errors.js';
import { buildPlan, type Plan, type PlanItem } from '../mirror/workspace/plan.js';
import { parseLocation } from '../oci/reference.js';
import { formatSignatureConfigMap, signatureConfigMapsYaml } from '../mirror/release/signatures.js';
import { parseDigest } from '../oci/digest.js';
import { ConflictError, RunNotFoundError } from './errors.js';
import type { ImageRecord, RunRecord } from './model.js';
import { type QueryInput, type TextPage, textPage } from './run-reads.js';
import type { RunStore } from './store.js';

/** The two mirror sets of a run: `idms` for the images mirrored by digest, `itms` for those by tag. */
export type MirrorSetKind = 'idms' | 'itms';

/** The Kubernetes kind of each mirror set, for the messages that name it. */
export const mirrorSetKinds: Readonly<Record<MirrorSetKind, string>> = {
  idms: 'ImageDigestMirrorSet',
  itms: 'ImageTagMirrorSet',
};

/**
 * A run's workspace files served from its records (issue 9, "Pinned: API"): the files `ferry
 * mirror --config` writes into its workspace, built by the same formatters from the run's image
 * items, so the API and the CLI cannot disagree on a byte.
 *
 * What each output reads, as the CLI decides for its own workspace:
 * - mirror sets: the images copied or already up to date (`completed` / `skipped`); failed and
 *   blocked images are left out, and so are images not yet final (a run in progress answers with
 *   what it has mirrored so far: every mirror listed exists). A dry run mirrors nothing and, as the
 *   CLI's dry run writes no `cluster-resources/`, has no mirror set: a {@link ConflictError}.
 * - errors: one line per failed image, dry runs included (an image that could not be assessed).
 * - plan: dry runs only, once they have ended (a partial plan's totals would read as the whole).
 */
export class RunOutputs {
  readonly #store: RunStore;

  constructor(store: RunStore) {
    this.#store = store;
  }

  /**
   * The run's `ImageDigestMirrorSet` (`idms`) or `ImageTagMirrorSet` (`itms`) as YAML, exactly as
   * the CLI writes `cluster-resources/idms-oc-mirror.yaml` / `itms-oc-mirror.yaml`; `undefined`
   * when the run mirrored no image that way (oc-mirror then writes no file).
   *
   * @throws RunNotFoundError for an unknown run; ConflictError for a dry run.
   */
  async mirrorSet(runId: string, kind: MirrorSetKind): Promise<string | undefined> {
    const entries = await this.#mirrored(runId, mirrorSetKinds[kind]);
    return kind === 'idms' ? formatIdms(entries) : formatItms(entries);
  }

  /**
   * Every cluster resource of the run as one multi-document YAML (issue 10, `GET
   * /v1/runs/{id}/cluster-resources`): the IDMS, then the ITMS, each as the CLI writes it; for
   * `oc apply -f -`. `undefined` when the run mirrored nothing.
   *
   * @throws RunNotFoundError for an unknown run; ConflictError for a dry run.
   */
  async clusterResources(runId: string): Promise<string | undefined> {
    const { images } = await this.#readMirrored(runId, 'cluster resources');
    const entries = entriesOf(images);
    const documents = [
      formatIdms(entries),
      formatItms(entries),
      ...images.flatMap(catalogResources).map((file) => `---\n${file.yaml}`),
      signaturesOf(images),
    ].filter((d): d is string => d !== undefined && d !== '');
    return documents.length === 0 ? undefined : documents.join(''); // each starts with `---`, as oc-mirror writes it
  }

  /** The run's mirrored images; a dry run mirrored nothing, so it has no `what` (a ConflictError). */
  async #mirrored(runId: string, what: string): Promise<WorkspaceEntry[]> {
    return entriesOf((await this.#readMirrored(runId, what)).images);
  }

  async #readMirrored(runId: string, what: string): Promise<{ run: RunRecord; images: ImageRecord[] }> {
    const read = await this.#read(runId);
    if (read.run.options.dryRun)
      throw new ConflictError(
        `run ${runId} is a dry run: it mirrored nothing, so it has no ${what}; its plan is GET /v1/runs/${runId}/plan`,
      );
    return read;
  }

  /**
   * `mirroring_errors.txt`'s lines for the run's failed images, in image order, a page at a time
   * (`limit`, `nextToken`: see textPage); empty when none failed. Reads the failed images only.
   *
   * @throws RunNotFoundError for an unknown run; InvalidTokenError or BadRequestError for a bad query.
   */
  async errors(runId: string, query: QueryInput = {}): Promise<TextPage> {
    const run = await this.#store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    return textPage(this.#store, run, 'errors', query, (i) => formatMirroringErrors(entriesOf([i])), 'failed');
  }

  /**
   * The dry run's plan JSON (issue 9's pinned shape), built with the CLI's `buildPlan` from what
   * each image's assessment recorded: images in run order, blocked images as `blocked`, failed
   * images left out (they are in {@link errors}), as `ferry mirror --config --dry-run` does.
   *
   * @throws RunNotFoundError for an unknown run; ConflictError when the run is not a dry run or
   *   is still in progress.
   */
  async plan(runId: string): Promise<Plan> {
    const { run, images } = await this.#read(runId);
    if (!run.options.dryRun)
      throw new ConflictError(`run ${runId} is not a dry run: the plan exists for dry runs only (dryRun: true)`);
    if (run.status === 'in-progress')
      throw new ConflictError(`run ${runId} is still in progress: its plan is complete once the run has ended`);
    return buildPlan(images.flatMap((image) => planItemOf(image) ?? []));
  }

  async #read(runId: string): Promise<{ run: RunRecord; images: ImageRecord[] }> {
    const run = await this.#store.getRun(runId);
    if (!run) throw new RunNotFoundError(runId);
    const images = await this.#store.listImages(runId);
    return { run, images: [...images].sort((a, b) => a.index - b.index) };
  }
}

/** The run's images as the workspace formatters take them; images not yet final are left out. */
export function entriesOf(images: readonly ImageRecord[]): WorkspaceEntry[] {
  return images.flatMap((image): WorkspaceEntry[] => {
    // Charts and rebuilt catalogs are not in the CLI's workspace entries (mirror sets, mapping, errors) either.
    if (image.artifact !== undefined) return [];
    const base = {
      source: image.source,
      destination: image.destination,
      byDigest: namesDigest(image.source),
      ...(image.digest === undefined ? {} : { digest: image.digest }),
    };
    if (image.blocked === true) return [{ ...base, blocked: true }];
    if (image.status === 'failed') return [{ ...base, error: image.message ?? 'failed' }];
    return image.status === 'completed' || image.status === 'skipped' ? [base] : [];
  });
}

/**
 * One image of a dry run as a plan item: the record's `dryRun` read back as `planItemFromCopyPlan`
 * (mirror/workspace/plan.ts) maps the CopyPlan it was recorded from — mounted blobs and bytes out
 * of `copy` and `bytes`, nothing to move for `skip`. Undefined for a failed image and for one
 * never assessed.
 */
export function planItemOf(image: ImageRecord): PlanItem | undefined {
  const base = {
    source: image.source,
    destination: image.destination,
    ...(image.digest === undefined ? {} : { digest: image.digest }),
  };
  if (image.blocked === true) return { ...base, action: 'blocked' };
  const found = image.dryRun;
  if (image.status === 'failed' || found === undefined) return undefined;
  const present = found.present ?? 0;
  const manifestGets = found.manifestGets ?? 0;
  if (found.action === 'skip')
    return { ...base, action: 'up-to-date', blobs: { copy: 0, mount: 0, present }, bytes: 0, manifestGets };
  const mount = found.mount ?? 0;
  return {
    ...base,
    action: 'copy',
    blobs: { copy: Math.max(0, found.blobs - mount), mount, present },
    bytes: Math.max(0, found.bytes - (found.mountBytes ?? 0)),
    manifestGets,
  };
}

/**
 * A rebuilt catalog's CatalogSource and ClusterCatalog, as the CLI writes `cs-…` / `cc-…`: named
 * after the tag, pulling the rebuilt catalog by digest; none for any other item or a catalog not pushed.
 */
function catalogResources(image: ImageRecord): ClusterResourceFile[] {
  if (image.artifact?.kind !== 'catalog' || image.digest === undefined) return [];
  if (image.status !== 'completed' && image.status !== 'skipped') return [];
  const reference = `${image.destination}@${image.digest}`;
  return [formatCatalogSource(reference), formatClusterCatalog(reference)];
}

/** Mirrored by digest (the IDMS) when the source names one (`…@sha256:…`), else by tag (the ITMS). */
function namesDigest(source: string): boolean {
  const location = parseLocation(source);
  return location.kind === 'registry' && location.ref.digest !== undefined;
}

/**
 * The release images' signatures as the ConfigMaps `oc adm release mirror` writes (one per
 * release digest, in run order), as YAML documents; empty when no release carries signatures.
 */
function signaturesOf(images: readonly ImageRecord[]): string {
  const seen = new Set<string>();
  const files = images.flatMap((image) => {
    if (image.signatures === undefined || image.digest === undefined || seen.has(image.digest)) return [];
    seen.add(image.digest);
    return [
      formatSignatureConfigMap(
        parseDigest(image.digest),
        image.signatures.map((s) => Buffer.from(s, 'base64')),
      ),
    ];
  });
  return signatureConfigMapsYaml(files);
}
