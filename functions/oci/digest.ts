import { createHash } from 'node:crypto';
import { DigestMismatchError, InvalidReferenceError } from './errors.js';

declare const digestBrand: unique symbol;
/** A validated content digest: `sha256:<64 hex>` or `sha512:<128 hex>`, lowercase. */
export type Digest = string & { readonly [digestBrand]: true };

export type DigestAlgorithm = 'sha256' | 'sha512';
const hexLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Parses and validates a digest string. */
export function parseDigest(value: string): Digest {
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (colon < 0 || !(algorithm === 'sha256' || algorithm === 'sha512')) {
    throw new InvalidReferenceError(`invalid digest "${truncate(value)}": algorithm must be sha256 or sha512`);
  }
  if (hex.length !== hexLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    throw new InvalidReferenceError(
      `invalid digest "${truncate(value)}": ${algorithm} needs ${hexLength[algorithm]} lowercase hex characters`,
    );
  }
  return value as Digest;
}

export function isDigest(value: string): value is Digest {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** Digest of bytes in memory (manifests only; blobs are hashed while streaming). */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

/**
 * Yields the chunks of `source` unchanged while hashing and counting them, and fails with
 * {@link DigestMismatchError} when the content is not `size` bytes hashing to `digest` (as
 * soon as it runs past `size`, or at its end).
 *
 * WARNING: the most recent chunk is held back and yielded only after the digest checks out,
 * so a consumer that commits on the last byte (an upload with `Content-Length`) never
 * receives complete, wrong content.
 */
export async function* verifyDigest(
  source: AsyncIterable<Buffer>,
  digest: Digest,
  size: number,
): AsyncGenerator<Buffer> {
  const hash = createHash(digestAlgorithm(digest));
  let bytes = 0;
  let held: Buffer | undefined;
  for await (const chunk of source) {
    bytes += chunk.length;
    if (bytes > size) throw new DigestMismatchError(`blob ${digest} is longer than its descriptor's ${size} bytes`);
    hash.update(chunk);
    if (held !== undefined) yield held;
    held = chunk;
  }
  if (bytes !== size) throw new DigestMismatchError(`blob ${digest} ended after ${bytes} of ${size} bytes`);
  const actual = `${digestAlgorithm(digest)}:${hash.digest('hex')}`;
  if (actual !== digest) throw new DigestMismatchError(`blob content hashes to ${actual}, expected ${digest}`);
  if (held !== undefined) yield held;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
