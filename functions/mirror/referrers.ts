import { type Digest, digestHex } from '../oci/digest.js';
import { type Descriptor, type Manifest, parseManifest } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import type { Repository } from '../oci/repository.js';

/**
 * Copies a manifest and everything below it into the destination under `reference` (a tag or
 * its digest); says whether the destination indexed the manifest's subject. The image copier
 * hands its own in, so referrers are copied by the same ladder and counted in the same tally.
 */
export type CopyTree = (manifest: Manifest, reference: string) => Promise<{ readonly subjectIndexed: boolean }>;

/** The tag the OCI 1.1 referrers fallback scheme uses for a subject: `sha256-<hex>`. */
export function fallbackTag(digest: Digest): string {
  return `${digest.slice(0, digest.indexOf(':'))}-${digestHex(digest)}`;
}

/** Cosign's tag suffixes for signatures, attestations and SBOMs. */
export const cosignSuffixes = ['sig', 'att', 'sbom'] as const;

/**
 * Copies everything that refers to `subject`: referrers from the OCI 1.1 API when the source
 * has it, else from the `sha256-<hex>` fallback tag; recursively (signatures of SBOMs); then
 * cosign's `sha256-<hex>.sig/.att/.sbom` tags. When the destination does not index subjects
 * itself, its fallback tag is written: the source's exact index when it lists the same
 * referrers, else a merge with what the destination already lists. Returns how many
 * referrer manifests were found.
 */
export async function copyReferrers(
  source: Repository,
  destination: Repository,
  subject: Digest,
  copyTree: CopyTree,
  seen: Set<string> = new Set(),
): Promise<number> {
  if (seen.has(subject)) return 0;
  seen.add(subject);
  const tag = fallbackTag(subject);
  const fromApi = await source.referrers(subject);
  const sourceFallback = fromApi === undefined ? await getIfPresent(source, tag) : undefined;
  const descriptors = fromApi ?? (sourceFallback?.kind === 'index' ? sourceFallback.index.manifests : []);

  let count = 0;
  let destinationIndexes = true;
  // Whether the destination has the referrers API, asked at most once and only if a referrer is already there.
  let destinationApi: Promise<boolean> | undefined;
  for (const descriptor of descriptors) {
    if ((await destination.headManifest(descriptor.digest))?.digest !== descriptor.digest) {
      const referrer = await source.getManifest(descriptor.digest);
      const { subjectIndexed } = await copyTree(referrer, descriptor.digest);
      destinationIndexes &&= subjectIndexed;
    } else {
      destinationApi ??= destination.referrers(subject).then((found) => found !== undefined);
      destinationIndexes &&= await destinationApi;
    }
    count += 1 + (await copyReferrers(source, destination, descriptor.digest, copyTree, seen));
  }
  if (descriptors.length > 0 && !destinationIndexes) {
    await writeFallbackTag(destination, tag, descriptors, sourceFallback);
  }

  for (const suffix of cosignSuffixes) {
    const cosignTag = `${tag}.${suffix}`;
    const head = await source.headManifest(cosignTag);
    if (!head) continue;
    count++;
    if ((await destination.headManifest(cosignTag))?.digest === head.digest) continue;
    const manifest = await source.getManifest(cosignTag);
    await copyTree(manifest, cosignTag);
  }
  return count;
}

/**
 * Lists `referrer` in `subject`'s fallback tag index (`sha256-<hex>`), as oras does when the
 * registry did not index the subject itself (no `OCI-Subject` on the manifest PUT): read, add
 * the entry if it is not there, push. The index it replaces is left (oras ≥ 1.1 does not delete it).
 */
export async function addFallbackReferrer(
  repository: Repository,
  subject: Digest,
  referrer: Descriptor,
): Promise<void> {
  await writeFallbackTag(repository, fallbackTag(subject), [referrer], undefined);
}

async function writeFallbackTag(
  destination: Repository,
  tag: string,
  descriptors: readonly Descriptor[],
  sourceFallback: Manifest | undefined,
): Promise<void> {
  const existing = await getIfPresent(destination, tag);
  const existingDescriptors = existing?.kind === 'index' ? existing.index.manifests : [];
  const merged = [...existingDescriptors];
  for (const d of descriptors) if (!merged.some((m) => m.digest === d.digest)) merged.push(d);
  if (existing && merged.length === existingDescriptors.length) return;
  const sameAsSource =
    sourceFallback?.kind === 'index' &&
    sourceFallback.index.manifests.length === merged.length &&
    merged.every((m) => sourceFallback.index.manifests.some((s) => s.digest === m.digest));
  const manifest = sameAsSource
    ? sourceFallback
    : parseManifest(
        Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: merged })),
        MediaType.ociIndex,
      );
  await destination.putManifest(tag, manifest);
}

/** The manifest at `reference`, or undefined when the repository has none there (HEAD first). */
export async function getIfPresent(repository: Repository, reference: string): Promise<Manifest | undefined> {
  const head = await repository.headManifest(reference);
  return head ? repository.getManifest(reference) : undefined;
}
