import { open } from 'node:fs/promises';
import { HelmError } from '../mirror/helm/errors.js';
import type { ChartArtifact, HelmExpansion } from '../mirror/helm/expand-helm.js';
import type { HelmSources } from '../mirror/helm/http.js';
import { pushChart } from '../mirror/helm/push.js';
import type { PlanItem } from '../mirror/workspace/plan.js';
import { describeError, UsageError } from '../oci/errors.js';
import { parseImageReference } from '../oci/reference.js';
import type { Registries } from '../oci/registries.js';
import type { Repository } from '../oci/repository.js';

// `ferry mirror --config`'s Helm charts (issue 10): each chart pushed as `helm push` does, after the images.

/** One chart's outcome, as a result line and a plan item. */
export interface ChartLine {
  readonly source: string;
  readonly destination: string;
  readonly kind: 'helm-chart';
  readonly status: 'copied' | 'skipped' | 'planned' | 'failed';
  readonly digest?: string;
  readonly error?: string;
  readonly plan?: PlanItem;
}

/** `--config`'s local charts: a file read whole, refused past `maxBytes` before it is read. */
export async function readLocalChart(path: string, maxBytes: number): Promise<Buffer> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw new UsageError(`mirror.helm.local: cannot read ${path}`, { cause: err });
  }
  try {
    const { size } = await file.stat();
    if (size > maxBytes) throw new HelmError('HELM_TOO_LARGE', `${path}: ${size} bytes, more than ${maxBytes}`);
    return await file.readFile();
  } finally {
    await file.close();
  }
}

/** The local-file half of {@link HelmSources} for the CLI. */
export const localChartReader: Pick<HelmSources, 'readLocal'> = { readLocal: readLocalChart };

/** Where a chart came from, for lines and plans: its `.tgz` URL or file. */
export function chartSource(chart: ChartArtifact): string {
  return chart.source.kind === 'repository' ? chart.source.url : chart.source.path;
}

/**
 * Pushes (or with `dryRun` plans) every chart, one at a time (charts are small), each failure
 * its own line: a chart that fails does not stop the others, and the run exits 1. `prepare` is
 * the copier's (ECR: the repository created as for an image) and runs only when pushing.
 */
export async function pushCharts(
  charts: readonly ChartArtifact[],
  ports: { registries: Registries; prepare: (repository: Repository) => Promise<void> },
  dryRun: boolean,
  onLine: (line: ChartLine) => void,
): Promise<ChartLine[]> {
  const lines: ChartLine[] = [];
  for (const chart of charts) {
    const base = { source: chartSource(chart), destination: chart.destination, kind: 'helm-chart' as const };
    let line: ChartLine;
    try {
      const ref = parseImageReference(chart.destination);
      const repository = ports.registries.repository({ kind: 'registry', ref }, 'destination');
      if (!dryRun) await ports.prepare(repository);
      const result = await pushChart(repository, chart, { dryRun });
      const plan: PlanItem = {
        source: base.source,
        destination: base.destination,
        digest: result.digest,
        action: result.status === 'up-to-date' ? 'up-to-date' : 'copy',
        blobs: { copy: result.blobs, mount: 0, present: 2 - result.blobs },
        bytes: result.bytes,
      };
      const status = dryRun ? 'planned' : result.status === 'pushed' ? 'copied' : 'skipped';
      line = { ...base, status, digest: result.digest, plan };
    } catch (err) {
      line = { ...base, status: 'failed', error: describeError(err) };
    }
    lines.push(line);
    onLine(line);
  }
  return lines;
}

/** A chart line as `ferry mirror` prints it (text, or one JSON object with `--json`). */
export function formatChartLine(line: ChartLine, json: boolean): string {
  const { plan: _plan, ...rest } = line;
  if (json) return JSON.stringify(rest);
  if (line.status === 'failed') return `failed   chart ${line.source} → ${line.destination}: ${line.error}`;
  if (line.status === 'planned')
    return `${line.plan?.action === 'copy' ? 'push   ' : 'current'}  chart ${line.source} → ${line.destination} ${line.digest}`;
  return `${line.status === 'copied' ? 'pushed ' : 'skipped'}  chart ${line.source} → ${line.destination} ${line.digest}`;
}

/** Warnings for what looked like an image in a chart and did not parse (one line each). */
export function droppedWarnings(helm: HelmExpansion): string[] {
  return helm.dropped.map((d) => `${d.chart} ${d.foundIn}: "${d.text}" is not an image reference: ${d.why}`);
}
