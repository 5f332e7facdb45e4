import { digestOf } from '../../oci/digest.js';
import { parseImageReference } from '../../oci/reference.js';
import { Limiter } from '../limiter.js';
import { readChartArchive } from './archive.js';
import { readChartMetadata } from './chart-metadata.js';
import { HelmError, helmLimits } from './errors.js';
import type { HelmSources } from './http.js';
import { type DroppedImage, findChartImages } from './images.js';
import { buildOciChart, type OciChart } from './oci-chart.js';
import { findChart, indexUrl } from './repo-index.js';
import type { HelmSelection } from './selection.js';

/** Where a chart's bytes come from: a repository's `.tgz` (digest from the index when it gives one), or a local file. */
export type ChartSource =
  | { readonly kind: 'repository'; readonly repository: string; readonly url: string; readonly digest?: string }
  | { readonly kind: 'local'; readonly path: string };

/**
 * A chart to push as an OCI chart (a generated artifact: a function of the chart bytes). The
 * destination is `<to>/<chart>:<version with + as _>`.
 */
export interface ChartArtifact {
  readonly kind: 'helm-chart';
  readonly name: string;
  readonly version: string;
  readonly source: ChartSource;
  /** The `.tgz` bytes, as read (the layer, unchanged). */
  readonly bytes: Buffer;
  readonly destination: string;
  /** Config, layer and manifest as `helm push` writes them. */
  readonly oci: OciChart;
}

/** An image a chart names, for expansion: the reference, the chart and where in it. */
export interface HelmImage {
  readonly reference: string;
  readonly chart: string;
  readonly foundIn: string[];
}

/** What `mirror.helm` expands to. */
export interface HelmExpansion {
  readonly charts: ChartArtifact[];
  readonly images: HelmImage[];
  readonly dropped: (DroppedImage & { readonly chart: string })[];
}

/**
 * Reads every chart of `selection` — each repository's index once, each chart's `.tgz` (its
 * index digest verified), each local file — and returns the charts to push under `to` and the
 * images they name (`to` is `<registry>[/<prefix>]`). Any failure rejects the whole expansion.
 * Local charts need `sources.readLocal` (the CLI's); without it they are refused.
 */
export async function expandHelm(
  selection: HelmSelection,
  sources: HelmSources,
  to: string,
  options: { concurrency?: number } = {},
): Promise<HelmExpansion> {
  const limiter = new Limiter(options.concurrency ?? 4);
  const indexes = new Map<string, Promise<string>>();
  const readIndex = (repository: string): Promise<string> => {
    let text = indexes.get(repository);
    if (text === undefined)
      indexes.set(
        repository,
        (text = limiter.run(async () =>
          (await sources.getBytes(indexUrl(repository), helmLimits.indexBytes)).toString('utf8'),
        )),
      );
    return text;
  };
  const jobs = [
    ...selection.repositories.flatMap((repo) =>
      repo.charts.map((spec) => async () => {
        const indexed = findChart(await readIndex(repo.url), repo.url, spec.name, spec.version);
        const bytes = await limiter.run(() => sources.getBytes(indexed.url, helmLimits.chartBytes));
        if (indexed.digest !== undefined && digestOf(bytes) !== indexed.digest)
          throw new HelmError(
            'HELM_DIGEST_MISMATCH',
            `${indexed.url}: sha256 ${digestOf(bytes)}, the index says ${indexed.digest}`,
          );
        const source: ChartSource = {
          kind: 'repository',
          repository: repo.url,
          url: indexed.url,
          ...(indexed.digest === undefined ? {} : { digest: indexed.digest }),
        };
        return chartArtifact(bytes, source, indexed.url, to, spec.imagePaths, spec.version);
      }),
    ),
    ...selection.local.map((local) => async () => {
      const readLocal = sources.readLocal;
      if (readLocal === undefined)
        throw new HelmError(
          'HELM_URL_REFUSED',
          `mirror.helm.local ${local.name}: local charts are read by the CLI only`,
        );
      const bytes = await readLocal(local.path, helmLimits.chartBytes);
      return chartArtifact(bytes, { kind: 'local', path: local.path }, local.path, to, local.imagePaths);
    }),
  ];
  const results = await Promise.all(jobs.map((job) => job()));
  const seen = new Set<string>();
  const charts: ChartArtifact[] = [];
  const images: HelmImage[] = [];
  const dropped: HelmExpansion['dropped'] = [];
  for (const r of results) {
    if (seen.has(r.artifact.destination)) continue;
    seen.add(r.artifact.destination);
    charts.push(r.artifact);
    const label = `${r.artifact.name}-${r.artifact.version}`;
    for (const image of r.found.images)
      images.push({ reference: image.reference, chart: label, foundIn: image.foundIn });
    for (const d of r.found.dropped) dropped.push({ ...d, chart: label });
  }
  return { charts, images, dropped };
}

/**
 * One chart's artifact from its `.tgz` bytes (pushed under `<to>/<name>:<tag>`; `version`, when
 * given, must be Chart.yaml's) and the images it names. Deterministic in its inputs: a run's copy
 * task re-derives a chart from the same bytes (functions/runs/chart-items.ts).
 */
export async function chartArtifact(
  bytes: Buffer,
  source: ChartSource,
  where: string,
  to: string,
  imagePaths: readonly string[] | undefined,
  version?: string,
): Promise<{ artifact: ChartArtifact; found: ReturnType<typeof findChartImages> }> {
  const files = await readChartArchive(bytes, where);
  const meta = readChartMetadata(files.chartYaml, where, files.requirementsYaml);
  if (version !== undefined && meta.version !== version)
    throw new HelmError('HELM_CHART_INVALID', `${where}: Chart.yaml says version ${meta.version}, not ${version}`);
  const oci = buildOciChart(meta, bytes, files.chartYamlTime);
  const destination = `${to}/${meta.name}:${oci.tag}`;
  try {
    parseImageReference(destination);
  } catch (err) {
    throw new HelmError('HELM_CHART_INVALID', `${where}: ${destination} is not a destination: ${String(err)}`, {
      cause: err,
    });
  }
  const artifact: ChartArtifact = {
    kind: 'helm-chart',
    name: meta.name,
    version: meta.version,
    source,
    bytes,
    destination,
    oci,
  };
  return { artifact, found: findChartImages(files, meta, imagePaths) };
}
