import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseDigest } from '../../../functions/oci/digest.js';
import type { BytesGetter } from '../../../functions/mirror/release/graph-http.js';
import {
  fetchReleaseSignatures,
  formatSignatureConfigMap,
  maxSignaturesPerRelease,
  signatureConfigMapsYaml,
} from '../../../functions/mirror/release/signatures.js';

// Release signatures (issue 10, "Pinned: what is written"): fetched per release digest from the store, carried as ConfigMaps.

const hex = 'ab'.repeat(32);
const digest = parseDigest(`sha256:${hex}`);

/** A store holding `bodies[url]`; every other URL a 404. Records what was asked. */
function store(bodies: Record<string, Buffer>): BytesGetter & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    getBytes: async (url, options) => {
      asked.push(url);
      expect(options.maxBytes).toBeGreaterThan(0);
      return bodies[url];
    },
  };
}

describe('release signatures', () => {
  it('reads signature-1, -2 … from the store until a 404', async () => {
    const base = 'https://sigs.example/release';
    const s = store({
      [`${base}/sha256=${hex}/signature-1`]: Buffer.from('sig one'),
      [`${base}/sha256=${hex}/signature-2`]: Buffer.from('sig two'),
    });
    const found = await fetchReleaseSignatures(`${base}/`, digest, s);
    expect(found.map((b) => b.toString())).toEqual(['sig one', 'sig two']);
    expect(s.asked).toEqual([1, 2, 3].map((n) => `${base}/sha256=${hex}/signature-${n}`));
  });

  it('is empty when the store has none, stops at the cap, and refuses an empty signature', async () => {
    expect(await fetchReleaseSignatures('https://sigs.example', digest, store({}))).toEqual([]);
    const endless: BytesGetter = { getBytes: async () => Buffer.from('x') };
    expect(await fetchReleaseSignatures('https://sigs.example', digest, endless)).toHaveLength(maxSignaturesPerRelease);
    const empty: BytesGetter = { getBytes: async () => Buffer.alloc(0) };
    await expect(fetchReleaseSignatures('https://sigs.example', digest, empty)).rejects.toMatchObject({
      name: 'ReleaseError',
      code: 'RELEASE_SIGNATURE_INVALID',
    });
  });

  it('writes the ConfigMap oc adm release mirror writes: name, namespace, label, binaryData per signature', () => {
    const file = formatSignatureConfigMap(digest, [Buffer.from('sig one'), Buffer.from([0, 255, 1])]);
    expect(file.name).toBe(`signature-sha256-${hex.slice(0, 16)}.json`);
    expect(JSON.parse(file.content)).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: `sha256-${hex}`,
        namespace: 'openshift-config-managed',
        labels: { 'release.openshift.io/verification-signatures': '' },
      },
      binaryData: {
        [`sha256-${hex}-1`]: Buffer.from('sig one').toString('base64'),
        [`sha256-${hex}-2`]: 'AP8B',
      },
    });
    const yaml = signatureConfigMapsYaml([
      file,
      formatSignatureConfigMap(parseDigest(`sha256:${'cd'.repeat(32)}`), []),
    ]);
    expect(parseAllDocuments(yaml).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name)).toEqual([
      `sha256-${hex}`,
      `sha256-${'cd'.repeat(32)}`,
    ]);
  });
});
