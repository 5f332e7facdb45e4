import { describe, expect, it } from 'vitest';
import { createCopier } from '../../../functions/mirror/engine.js';
import { fallbackTag } from '../../../functions/mirror/referrers.js';
import type { Repository, RepositoryRef } from '../../../functions/oci/repository.js';
import { MemoryRepository } from '../../support/memory-repository.js';
import { addFallbackIndex, addImage, addReferrer, fallbackTagOf, resetCalls, writeCalls } from './images.js';

function setup() {
  const source = new MemoryRepository('library/app', { registry: 'src.test' });
  const destination = new MemoryRepository('mirror/app', { registry: 'dst.test' });
  const copier = createCopier({ blobs: { retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 } } });
  return { source, destination, copier };
}

const at = (repository: Repository, reference: string): RepositoryRef => ({ repository, reference });

describe('referrers', () => {
  it('names the fallback tag sha256-<hex>', () => {
    const { source } = setup();
    const image = addImage(source);
    expect(fallbackTag(image.digest)).toBe(fallbackTagOf(image.digest));
    expect(fallbackTag(image.digest)).toMatch(/^sha256-[0-9a-f]{64}$/);
  });

  it('are not looked for unless asked', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1' });
    addReferrer(source, image.descriptor);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    expect(result.referrers).toBeUndefined();
    expect(destination.manifests.size).toBe(1);
  });

  it('copies referrers found through the OCI 1.1 API after the image, counted in the tally', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const sig = addReferrer(source, image.descriptor);
    const sbom = addReferrer(source, image.descriptor, 'application/spdx+json');
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(result.referrers).toBe(2);
    expect(destination.manifests.has(sig.digest)).toBe(true);
    expect(destination.manifests.has(sbom.digest)).toBe(true);
    const pushed = destination.calls.filter((c) => c.op === 'putManifest').map((c) => c.target);
    expect(pushed[0]).toBe('v1');
    expect(pushed.slice(1).sort()).toEqual([sig.digest, sbom.digest].sort());
    // The image's two blobs and each referrer's layer; the referrers share one empty config, moved once.
    expect(result.blobs).toEqual({ copied: 5, mounted: 0, skipped: 1 });
    // The destination indexes subjects itself: no fallback tag written.
    expect(destination.tags.has(fallbackTagOf(image.digest))).toBe(false);
  });

  it('copies referrers of an image that is already up to date (status copied)', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'));
    const sig = addReferrer(source, image.descriptor);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(result).toMatchObject({ status: 'copied', referrers: 1 });
    expect(destination.manifests.has(sig.digest)).toBe(true);
  });

  it('finds referrers through the sha256-<hex> fallback tag when the source has no API', async () => {
    const { source, destination, copier } = setup();
    source.referrersApi = undefined;
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const sig = addReferrer(source, image.descriptor);
    addFallbackIndex(source, image.digest, [sig]);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(result.referrers).toBe(1);
    expect(destination.manifests.has(sig.digest)).toBe(true);
  });

  it('writes the source’s own fallback index to a destination without the API', async () => {
    const { source, destination, copier } = setup();
    source.referrersApi = undefined;
    destination.referrersApi = undefined;
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const sig = addReferrer(source, image.descriptor);
    const fallback = addFallbackIndex(source, image.digest, [sig]);
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(destination.tags.get(fallbackTagOf(image.digest))).toBe(fallback.digest);
  });

  it('merges with a fallback index the destination already has', async () => {
    const { source, destination, copier } = setup();
    destination.referrersApi = undefined;
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const sig = addReferrer(source, image.descriptor);
    const theirs = addReferrer(destination, image.descriptor, 'application/vnd.other');
    addFallbackIndex(destination, image.digest, [theirs]);
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    const merged = destination.manifests.get(destination.tags.get(fallbackTagOf(image.digest))!);
    expect(merged?.kind === 'index' && merged.index.manifests.map((d) => d.digest)).toEqual([
      theirs.digest,
      sig.digest,
    ]);
  });

  it('follows referrers of referrers (a signature of an SBOM)', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const sbom = addReferrer(source, image.descriptor, 'application/spdx+json');
    const sbomSig = addReferrer(source, sbom.descriptor);
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(result.referrers).toBe(2);
    expect(destination.manifests.has(sbomSig.digest)).toBe(true);
  });

  it('copies cosign .sig, .att and .sbom tags', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const tag = fallbackTagOf(image.digest);
    const sig = addImage(source, { tag: `${tag}.sig`, layers: 1, artifactType: 'application/vnd.dev.cosign' });
    const att = addImage(source, { tag: `${tag}.att`, layers: 1, artifactType: 'application/vnd.dev.cosign' });
    const sbom = addImage(source, { tag: `${tag}.sbom`, layers: 1, artifactType: 'application/vnd.dev.cosign' });
    const result = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(result.referrers).toBe(3);
    expect(destination.tags.get(`${tag}.sig`)).toBe(sig.digest);
    expect(destination.tags.get(`${tag}.att`)).toBe(att.digest);
    expect(destination.tags.get(`${tag}.sbom`)).toBe(sbom.digest);
  });

  it('leaves a cosign tag the destination already has alone (counted, not pushed)', async () => {
    const { source, destination, copier } = setup();
    const image = addImage(source, { tag: 'v1', layers: 1 });
    const tag = `${fallbackTagOf(image.digest)}.sig`;
    addImage(source, { tag, layers: 1, artifactType: 'application/vnd.dev.cosign' });
    await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    resetCalls(destination);
    const again = await copier.copy(at(source, 'v1'), at(destination, 'v1'), { referrers: true });
    expect(again).toMatchObject({ status: 'skipped', referrers: 1 });
    expect(writeCalls(destination)).toEqual([]);
  });
});
