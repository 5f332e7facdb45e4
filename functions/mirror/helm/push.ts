import { Readable } from 'node:stream';
import type { Digest } from '../../oci/digest.js';
import { verifyDigest } from '../../oci/digest.js';
import { type Descriptor, parseManifest } from '../../oci/manifest.js';
import type { Repository } from '../../oci/repository.js';
import type { ChartArtifact } from './expand-helm.js';
import { ociManifestMediaType } from './oci-chart.js';

/** What pushing (or planning) a chart found: already there with that manifest, or (to be) pushed. */
export interface ChartPushResult {
  readonly status: 'up-to-date' | 'pushed' | 'would-push';
  readonly digest: Digest;
  /** Blobs written (or to write): config and layer, those the destination lacks. */
  readonly blobs: number;
  readonly bytes: number;
}

/**
 * Pushes a chart to `repository` as `helm push` does: the config and layer blobs the destination
 * lacks (HEAD first), then the manifest under the chart's tag. A destination whose tag already
 * holds that manifest digest is left alone (`up-to-date`, one HEAD). With `dryRun` nothing is
 * written: the result says what a push would do.
 */
export async function pushChart(
  repository: Repository,
  artifact: ChartArtifact,
  options: { dryRun?: boolean } = {},
): Promise<ChartPushResult> {
  const { oci } = artifact;
  const head = await repository.headManifest(oci.tag);
  if (head?.digest === oci.digest) return { status: 'up-to-date', digest: oci.digest, blobs: 0, bytes: 0 };
  const blobs: { descriptor: Descriptor; bytes: Buffer }[] = [];
  for (const blob of [oci.config, oci.layer]) if (!(await repository.headBlob(blob.descriptor))) blobs.push(blob);
  const bytes = blobs.reduce((sum, b) => sum + b.bytes.length, 0);
  if (options.dryRun) return { status: 'would-push', digest: oci.digest, blobs: blobs.length, bytes };
  for (const { descriptor, bytes: content } of blobs) {
    // writeBlob wants a stream that verifies what it carries (a copy's contract), even from memory.
    const body = Readable.from(verifyDigest(Readable.from([content]), descriptor.digest, descriptor.size), {
      objectMode: false,
    });
    await repository.writeBlob(descriptor, body);
  }
  await repository.putManifest(oci.tag, parseManifest(oci.manifest, ociManifestMediaType, oci.digest));
  return { status: 'pushed', digest: oci.digest, blobs: blobs.length, bytes };
}
