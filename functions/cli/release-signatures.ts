import type { SetImage } from '../mirror/image-set/set-image.js';
import type { MirrorResult } from '../mirror/mirror.js';
import { transportBytesGetter } from '../mirror/release/graph-http.js';
import { fetchReleaseSignatures, formatSignatureConfigMap, type SignatureFile } from '../mirror/release/signatures.js';
import { parseDigest } from '../oci/digest.js';
import { describeError } from '../oci/errors.js';
import type { Transport } from '../oci/transport.js';

/**
 * The `release-signatures/` ConfigMaps of the release images a run mirrored (issue 10): each
 * release's signatures fetched by digest from the store `FERRY_RELEASE_SIGNATURES_URL` names. No
 * store, or a release the store cannot answer for, is a warning, not a failure (as oc-mirror):
 * the images are mirrored either way; a cluster that verifies releases needs the ConfigMap.
 * `wanted` and `results` are aligned (the copies of those images, in order).
 */
export async function releaseSignatureFiles(
  wanted: readonly SetImage[],
  results: readonly MirrorResult[],
  store: string | undefined,
  transport: Pick<Transport, 'send' | 'isInsecure'>,
  warn: (message: string) => void,
): Promise<SignatureFile[]> {
  const digests = [
    ...new Set(
      wanted.flatMap((image, i) => {
        const result = results[i];
        return image.release === true && result !== undefined && result.status !== 'failed' ? [result.digest] : [];
      }),
    ),
  ];
  if (digests.length === 0) return [];
  if (store === undefined || store === '') {
    warn(
      'release signatures not written: set FERRY_RELEASE_SIGNATURES_URL (e.g. https://mirror.openshift.com/pub/openshift-v4/signatures/openshift/release)',
    );
    return [];
  }
  const getter = transportBytesGetter(transport);
  const files: SignatureFile[] = [];
  for (const digest of digests) {
    try {
      const signatures = await fetchReleaseSignatures(store, parseDigest(digest), getter);
      if (signatures.length === 0) warn(`release ${digest}: the signature store has no signature for it`);
      else files.push(formatSignatureConfigMap(parseDigest(digest), signatures));
    } catch (err) {
      warn(`release ${digest}: signatures not fetched: ${describeError(err)}`);
    }
  }
  return files;
}
