import type { Digest } from '../../oci/digest.js';
import { stringifyYaml } from '../workspace/cluster-resources.js';
import type { BytesGetter } from './graph-http.js';
import { ReleaseError } from './errors.js';

/** The largest signature read (a release signature is a few hundred bytes of OpenPGP). */
export const maxSignatureBytes = 64 * 1024;
/** Signatures read per release (`signature-1` … `signature-N`; the store numbers them from 1). */
export const maxSignaturesPerRelease = 8;

/**
 * A release's signatures from a signature store (`FERRY_RELEASE_SIGNATURES_URL`, the layout of
 * `https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release`):
 * `<store>/sha256=<hex>/signature-<n>` from 1 until the store answers 404. An empty list when the
 * store has none for this release. Signatures are carried, not verified: the cluster verifies them
 * with its own keys (`release.openshift.io/verification-config-map`).
 */
export async function fetchReleaseSignatures(store: string, digest: Digest, getter: BytesGetter): Promise<Buffer[]> {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const base = store.replace(/\/+$/, '');
  const signatures: Buffer[] = [];
  for (let n = 1; n <= maxSignaturesPerRelease; n++) {
    const body = await getter.getBytes(`${base}/${algorithm}=${hex}/signature-${n}`, {
      accept: 'application/octet-stream',
      maxBytes: maxSignatureBytes,
    });
    if (body === undefined) break;
    if (body.length === 0)
      throw new ReleaseError('RELEASE_SIGNATURE_INVALID', `signature ${n} of ${digest} from ${base} is empty`);
    signatures.push(body);
  }
  return signatures;
}

/** One file of `release-signatures/`: its name and its bytes. */
export interface SignatureFile {
  readonly name: string;
  readonly content: string;
}

/**
 * The ConfigMap that carries a release's signatures into a disconnected cluster, as `oc adm
 * release mirror` writes it: namespace `openshift-config-managed`, name `sha256-<hex>`, label
 * `release.openshift.io/verification-signatures`, `binaryData` keys `sha256-<hex>-<n>`; in
 * `release-signatures/signature-sha256-<first 16 hex>.json` (`oc apply -f` reads JSON and YAML alike).
 */
export function formatSignatureConfigMap(digest: Digest, signatures: readonly Buffer[]): SignatureFile {
  const [algorithm, hex] = digest.split(':') as [string, string];
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: `${algorithm}-${hex}`,
      namespace: 'openshift-config-managed',
      labels: { 'release.openshift.io/verification-signatures': '' },
    },
    binaryData: Object.fromEntries(signatures.map((s, i) => [`${algorithm}-${hex}-${i + 1}`, s.toString('base64')])),
  };
  return {
    name: `signature-${algorithm}-${hex.slice(0, 16)}.json`,
    content: `${JSON.stringify(configMap, null, 2)}\n`,
  };
}

/** The ConfigMaps of several releases as one multi-document YAML (for `GET /v1/runs/{id}/cluster-resources`). */
export function signatureConfigMapsYaml(files: readonly SignatureFile[]): string {
  return files.map((f) => `---\n${stringifyYaml(JSON.parse(f.content) as unknown)}`).join('');
}
