import { readFile } from 'node:fs/promises';
import { Env } from '../contract.js';
import { extname } from 'node:path';
import { ImageSetError, parseImageSet, type ImageSet } from '../mirror/image-set/document.js';
import { expandImageSetContent, type SetImage } from '../mirror/image-set/expand.js';
import { type MirrorPair, type MirrorResult, type PlanResult, mirrorImages, planImages } from '../mirror/mirror.js';
import { formatBytes } from '../mirror/format.js';
import type { ChartArtifact, HelmExpansion } from '../mirror/helm/expand-helm.js';
import type { WorkspaceEntry } from '../mirror/workspace/entry.js';
import { buildPlan, type PlanItem, planItemFromCopyPlan } from '../mirror/workspace/plan.js';
import { writeWorkspace } from '../mirror/workspace/workspace.js';
import { UsageError } from '../oci/errors.js';
import { type Platform, parsePlatform } from '../oci/manifest.js';
import { parseImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { describeCatalog, pushCatalogs } from './catalogs.js';
import { createCliLogger } from './log.js';
import { describePlan } from './mirror-dry-run.js';
import { describePullCosts } from './pull-costs.js';
import { releaseSignatureFiles } from './release-signatures.js';
import { type ChartLine, droppedWarnings, formatChartLine, pushCharts } from './mirror-charts.js';
import { setSources, sourceRegistries } from './set-sources.js';
import { defaultWorkspace } from './options.js';
import { type CopyFlags, createRuntime, type Runtime } from './runtime.js';

/** `ferry mirror --config`'s flags: the mirror flags, the set file, workspace and dry run. */
export interface MirrorConfigFlags extends CopyFlags {
  readonly config: string;
  readonly to: string;
  readonly workspace?: string;
  readonly dryRun?: boolean;
  /** `--platform`, parsed: for the images whose set names no platforms. */
  readonly platforms: readonly Platform[];
  readonly referrers?: boolean;
  readonly includeForeignLayers?: boolean;
  readonly concurrency: number;
  readonly failFast?: boolean;
  readonly json?: boolean;
  readonly debug?: boolean;
  /** `--quiet`: no result lines on stdout. */
  readonly quiet?: boolean;
}

/** How `ferry mirror` prints one image's result (main.ts's, shared with image-list mirrors). */
export type ResultPrinter = (result: MirrorResult) => string;

/**
 * `ferry mirror --config FILE --to REGISTRY[/PREFIX]` (issue 9, "Pinned: CLI"): reads the image
 * set, warns once per ignored section, expands it against the source registries, then copies
 * (or with `--dry-run` plans) every image that is not blocked, and writes the workspace. Returns
 * the exit code: 1 when any image failed.
 */
export async function runMirrorConfig(
  flags: MirrorConfigFlags,
  print: ResultPrinter,
  /**
   * The set itself (`ferry mirror --release` builds one), and checks to make on the runtime before
   * anything is read or copied; absent: the set is read from `flags.config`.
   */
  preset?: { readonly set: ImageSet; readonly probe?: (runtime: Runtime) => Promise<void> },
): Promise<number> {
  const set = preset?.set ?? (await readImageSet(flags.config));
  const target = splitTarget(flags.to);
  const runtime = await createRuntime(flags, createCliLogger(flags.debug === true), {
    source: sourceRegistries(set),
    destination: [target.registry],
  });
  const started = Date.now();
  try {
    await preset?.probe?.(runtime);
    const updateGraphUrl = process.env[Env.updateUrlOverride] || undefined;
    let charts: ChartArtifact[] = [];
    const onHelm = (helm: HelmExpansion): void => {
      charts = helm.charts;
      for (const warning of droppedWarnings(helm)) process.stderr.write(`ferry: warning: ${warning}\n`);
    };
    const { images, artifacts } = await expandImageSetContent(set, setSources(runtime), target, {
      ...(updateGraphUrl === undefined ? {} : { updateGraphUrl }),
      onHelm,
    });
    const wanted = images.filter((i) => i.blocked !== true);
    const pairs = wanted.map((image) => toPair(image, flags.platforms));
    const options = {
      referrers: flags.referrers === true,
      includeForeignLayers: flags.includeForeignLayers === true,
      concurrency: flags.concurrency,
      failFast: flags.failFast === true,
      platforms: flags.platforms,
    };
    const out = (line: string): boolean => (flags.quiet ? true : process.stdout.write(`${line}\n`));
    // Blocked images are reported, never copied (`--dry-run --json` reports them in the plan).
    for (const b of images.filter((i) => i.blocked === true && !(flags.dryRun && flags.json)))
      out(flags.json ? JSON.stringify(blockedLine(b)) : `blocked  ${b.source} → ${b.destination}`);
    const dir = flags.workspace ?? defaultWorkspace;
    const chartPorts = { registries: runtime.registries, prepare: (r: Repository) => runtime.copier.prepare(r) };
    if (flags.dryRun) {
      const plans = await planImages(pairs, runtime.registries, runtime.copier, options, (r) => {
        if (!flags.json) out(describePlan(r) + foundIn(wanted, r.source));
      });
      const chartLines = await pushCharts(charts, chartPorts, true, (l) => {
        if (!flags.json) out(formatChartLine(l, false));
      });
      const byPlan = byImage(wanted, plans);
      const items = planItems(images, byPlan);
      const plan = buildPlan([...items, ...chartPlans(chartLines)]);
      await writeWorkspace(dir, { entries: entries(images, byPlan), dryRun: true, plan });
      if (flags.json) out(JSON.stringify(plan));
      // Catalogs are rebuilt after the copies; a dry run names them (their images are in the plan).
      for (const a of artifacts)
        process.stderr.write(`dry run: catalog ${a.source} would be rebuilt as ${a.destination}\n`);
      const failed = [...plans, ...chartLines].filter((p) => p.status === 'failed').length;
      process.stderr.write(
        `dry run: ${plan.totals.images} images: ${plan.totals.copy} to copy (${formatBytes(plan.totals.bytes)}), ${plan.totals.upToDate} up to date, ${images.length - wanted.length} blocked, ${failed} failed; ${plan.sourceManifestGets} source manifest GETs; plan in ${dir}/dry-run/plan.json\n`,
      );
      for (const line of await describePullCosts(items, runtime.pulls)) process.stderr.write(`dry run: ${line}\n`);
      return failed > 0 ? 1 : 0;
    }
    const results = await mirrorImages(pairs, runtime.registries, runtime.copier, options, (r) => out(print(r)));
    const imagesFailed = results.some((r) => r.status === 'failed');
    // A catalog serves its bundles: pushed only once every image it names is mirrored.
    const catalogs = imagesFailed ? [] : await pushCatalogs(artifacts, runtime.registries, runtime.copier, options);
    for (const c of catalogs) out(describeCatalog(c, flags.json === true));
    if (imagesFailed && artifacts.length > 0)
      process.stderr.write(`ferry: ${artifacts.length} catalogs not rebuilt: images failed\n`);
    const chartLines = await pushCharts(charts, chartPorts, false, (l) => out(formatChartLine(l, flags.json === true)));
    const releaseSignatures = await releaseSignatureFiles(
      wanted,
      results,
      process.env[Env.releaseSignaturesUrl],
      runtime.transport,
      (message) => process.stderr.write(`ferry: warning: ${message}\n`),
    );
    await writeWorkspace(dir, {
      entries: entries(images, byImage(wanted, results)),
      clusterResources: catalogs.flatMap((c) => c.clusterResources),
      releaseSignatures,
    });
    const failed = [...results, ...chartLines].filter((r) => r.status === 'failed').length;
    const catalogsFailed = imagesFailed ? artifacts.length : catalogs.filter((c) => c.status === 'failed').length;
    const copied = results.filter((r) => r.status === 'copied').length;
    const bytes = results.reduce((sum, r) => sum + (r.status === 'failed' ? 0 : r.bytes), 0);
    process.stderr.write(
      `${results.length} images${charts.length === 0 ? '' : ` and ${charts.length} charts`}: ${copied} copied, ${results.length - copied - failed} skipped, ${failed} failed, ${images.length - wanted.length} blocked${artifacts.length === 0 ? '' : `, ${artifacts.length - catalogsFailed} of ${artifacts.length} catalogs rebuilt`}; ${formatBytes(bytes)} moved in ${((Date.now() - started) / 1000).toFixed(1)} s; workspace ${dir}\n`,
    );
    return failed + catalogsFailed > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

/**
 * Reads and validates the set (`.json` as JSON, anything else as YAML, which reads JSON too);
 * prints each warning once. A bad document is a usage error naming the path (exit 2).
 */
export async function readImageSet(file: string): Promise<ImageSet> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --config ${file}`, { cause: err });
  }
  try {
    const format = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
    // The CLI's own document: `mirror.helm.local` files are read (the API refuses them).
    const { set, warnings } = parseImageSet(text, format, { localCharts: true });
    for (const warning of new Set(warnings)) process.stderr.write(`ferry: warning: ${warning}\n`);
    return set;
  } catch (err) {
    if (!(err instanceof ImageSetError)) throw err;
    // ImageSetError's message is "image set: <path>: <why>"; the CLI names the path first, or the file.
    const why = err.message.replace(/^image set: /, '');
    throw new UsageError(err.path === '' ? `${file}: ${why}` : why, { cause: err.cause });
  }
}

/** `REGISTRY[/PREFIX]` as expansion takes it. */
function splitTarget(to: string): { registry: string; prefix?: string } {
  const slash = to.indexOf('/');
  if (slash < 0) return { registry: to };
  return { registry: to.slice(0, slash), prefix: to.slice(slash + 1).replace(/\/+$/, '') };
}

/** The registries the set reads from: where `--src-creds` may go. */
function toPair(image: SetImage, fallback: readonly Platform[]): MirrorPair {
  const platforms = image.platforms?.map(parsePlatform) ?? fallback;
  return {
    source: parseImageReference(image.source),
    destination: parseImageReference(image.destination),
    ...(platforms.length === 0 ? {} : { platforms }),
  };
}

/** Each copied (or planned) image's result: `results` are in the order of `wanted`. */
function byImage<R>(wanted: readonly SetImage[], results: readonly R[]): Map<SetImage, R> {
  return new Map(wanted.map((image, i) => [image, results[i]!]));
}

/** The workspace entries: every image of the set, with the digest or error its run found. */
function entries(images: readonly SetImage[], results: Map<SetImage, MirrorResult | PlanResult>): WorkspaceEntry[] {
  return images.map((image): WorkspaceEntry => {
    const result = results.get(image);
    const base = { source: image.source, destination: image.destination, byDigest: image.byDigest };
    if (image.blocked) return { ...base, blocked: true };
    if (result === undefined) return base;
    if (result.status === 'failed') return { ...base, error: result.error };
    return { ...base, digest: result.status === 'planned' ? result.plan.digest : result.digest };
  });
}

/** The plan's items in set order: blocked images as such, failed plans left out (they are on stderr). */
function planItems(images: readonly SetImage[], plans: Map<SetImage, PlanResult>): PlanItem[] {
  return images.flatMap((image): PlanItem[] => {
    if (image.blocked) return [{ source: image.source, destination: image.destination, action: 'blocked' }];
    const planned = plans.get(image);
    return planned?.status === 'planned' ? [planItemFromCopyPlan(image, planned.plan)] : [];
  });
}

/** ` (found in podinfo-6.5.0 values.yaml .image, …)` for a chart's image; '' for the rest. */
function foundIn(images: readonly SetImage[], source: string): string {
  const where = images.find((i) => i.source === source)?.foundIn;
  return where === undefined ? '' : ` (found in ${where.join(', ')})`;
}

/** Planned charts as plan items (failed ones are on stderr, as failed images). */
function chartPlans(lines: readonly ChartLine[]): PlanItem[] {
  return lines.flatMap((l) => (l.plan === undefined ? [] : [l.plan]));
}

function blockedLine(image: SetImage): object {
  return { source: image.source, destination: image.destination, status: 'blocked' };
}
