import { describe, expect, it } from 'vitest';
import { readChartArchive } from '../../../functions/mirror/helm/archive.js';
import { readChartMetadata } from '../../../functions/mirror/helm/chart-metadata.js';
import type { ChartArtifact } from '../../../functions/mirror/helm/expand-helm.js';
import { buildOciChart } from '../../../functions/mirror/helm/oci-chart.js';
import { pushChart } from '../../../functions/mirror/helm/push.js';
import { chartTgz, sha256Hex } from '../../support/helm-fixture.js';
import { memoryRegistry } from '../../support/memory-repository.js';

async function artifact(): Promise<ChartArtifact> {
  const bytes = await chartTgz({
    dir: 'web',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0+x\n' },
  });
  const files = await readChartArchive(bytes, 'web.tgz');
  const oci = buildOciChart(readChartMetadata(files.chartYaml, 'web.tgz'), bytes, files.chartYamlTime);
  return {
    kind: 'helm-chart',
    name: 'web',
    version: '1.0.0+x',
    source: { kind: 'local', path: 'web.tgz' },
    bytes,
    destination: 'memory.test/web:1.0.0_x',
    oci,
  };
}

describe('pushChart', () => {
  it('pushes config, layer and manifest under the tag; a second push is one HEAD', async () => {
    const chart = await artifact();
    const repo = memoryRegistry()('web');
    const first = await pushChart(repo, chart);
    expect(first).toMatchObject({ status: 'pushed', digest: chart.oci.digest, blobs: 2 });
    expect(repo.calls.map((c) => c.op)).toEqual([
      'headManifest',
      'headBlob',
      'headBlob',
      'writeBlob',
      'writeBlob',
      'putManifest',
    ]);
    expect(repo.tags.get('1.0.0_x')).toBe(`sha256:${sha256Hex(chart.oci.manifest)}`);
    const stored = repo.manifests.get(chart.oci.digest)!;
    expect(stored.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
    expect(stored.bytes.equals(chart.oci.manifest)).toBe(true);
    expect(repo.blobs.get(`sha256:${sha256Hex(chart.bytes)}`)!.equals(chart.bytes)).toBe(true);

    repo.calls.length = 0;
    expect(await pushChart(repo, chart)).toMatchObject({ status: 'up-to-date', blobs: 0 });
    expect(repo.calls.map((c) => c.op)).toEqual(['headManifest']);
  });

  it('dry run writes nothing and counts the missing blobs', async () => {
    const chart = await artifact();
    const repo = memoryRegistry()('web');
    repo.addBlob(chart.oci.config.bytes, chart.oci.config.descriptor.mediaType);
    expect(await pushChart(repo, chart, { dryRun: true })).toEqual({
      status: 'would-push',
      digest: chart.oci.digest,
      blobs: 1,
      bytes: chart.bytes.length,
    });
    expect(repo.count('writeBlob') + repo.count('putManifest')).toBe(0);
  });
});
