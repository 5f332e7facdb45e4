import { chartArtifact, type ChartArtifact } from '../mirror/helm/expand-helm.js';
import { HelmError, helmLimits } from '../mirror/helm/errors.js';
import { pushChart } from '../mirror/helm/push.js';
import { digestOf } from '../oci/digest.js';
import type { Repository } from '../oci/repository.js';
import type { RunEngine } from './engine.js';
import type { ImageArtifact, ImageRecord } from './model.js';
import type { ImageOutcome } from './store.js';

// The copy task of a run's chart item (issue 10): the chart is not stored by the run; it is
// fetched again from its URL, checked against the sha256 Plan recorded (a repository that
// changed the bytes under the same version fails the item) and pushed as `helm push` does.

type ChartInputs = Extract<ImageArtifact, { kind: 'chart' }>;

/**
 * Re-derives the chart of `image` from its URL: the bytes must hash to the recorded sha256 and
 * give the recorded destination. A mismatch is a HelmError (`HELM_DIGEST_MISMATCH`,
 * `HELM_CHART_INVALID`): not retryable, the item fails.
 */
export async function fetchChart(engine: RunEngine, image: ImageRecord, inputs: ChartInputs): Promise<ChartArtifact> {
  if (engine.getBytes === undefined) throw new Error('this engine cannot read chart repositories');
  const bytes = await engine.getBytes(inputs.url, helmLimits.chartBytes);
  const sha256 = digestOf(bytes);
  if (sha256 !== inputs.sha256)
    throw new HelmError(
      'HELM_DIGEST_MISMATCH',
      `${inputs.url}: ${sha256}, the run planned ${inputs.sha256}: the chart changed since the run started`,
    );
  // The destination is `<to>/<chart name>:<tag>`: `to` is everything before the last path component.
  const to = image.destination.slice(0, image.destination.lastIndexOf('/'));
  const source = { kind: 'repository' as const, repository: inputs.url, url: inputs.url };
  const { artifact } = await chartArtifact(bytes, source, inputs.url, to, undefined, inputs.version);
  if (artifact.destination !== image.destination || artifact.name !== inputs.name)
    throw new HelmError(
      'HELM_CHART_INVALID',
      `${inputs.url}: now gives ${artifact.destination}, not ${image.destination}`,
    );
  return artifact;
}

/**
 * Pushes (or in a dry run assesses) a chart item into `destination` (its checkpoints applied by
 * the caller); `prepare` is the copier's (ECR creates the repository). What to record on the item.
 */
export async function copyChartItem(
  engine: RunEngine,
  image: ImageRecord,
  inputs: ChartInputs,
  destination: Repository,
  dryRun: boolean,
): Promise<ImageOutcome> {
  const chart = await fetchChart(engine, image, inputs);
  if (dryRun) {
    const plan = await pushChart(destination, chart, { dryRun: true });
    const present = 2 - plan.blobs;
    return {
      status: 'skipped',
      digest: plan.digest,
      dryRun:
        plan.status === 'up-to-date'
          ? { action: 'skip', blobs: 0, bytes: 0, present: 2 }
          : { action: 'copy', blobs: plan.blobs, bytes: plan.bytes, present },
    };
  }
  await engine.copier.prepare(destination);
  const result = await pushChart(destination, chart);
  const pushed = result.status === 'pushed';
  return {
    status: pushed ? 'completed' : 'skipped',
    digest: result.digest,
    bytes: result.bytes,
    message: pushed ? `chart pushed (${result.blobs} blobs)` : 'destination is up to date',
  };
}
