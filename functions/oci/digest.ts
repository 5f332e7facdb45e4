import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
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
 * A pass-through stream that hashes and counts what flows through it and fails when the
 * content is not `size` bytes hashing to `digest`.
 *
 * WARNING: the most recent chunk is held back and released only after the digest checks out
 * at end of stream, so a consumer that commits on the last byte (an upload with
 * `Content-Length`) never receives complete, wrong content.
 */
export class DigestVerifier extends Transform {
  readonly #expected: Digest;
  readonly #size: number;
  readonly #hash: Hash;
  #held: Buffer | undefined;
  #bytes = 0;

  constructor(expected: Digest, size: number, hash?: Hash, offset = 0) {
    super();
    this.#expected = expected;
    this.#size = size;
    this.#hash = hash ?? createHash(digestAlgorithm(expected));
    this.#bytes = offset;
  }

  /** Bytes seen so far (including a resume offset). */
  get bytes(): number {
    return this.#bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#bytes += chunk.length;
    if (this.#bytes > this.#size) {
      callback(new DigestMismatchError(`blob ${this.#expected} is longer than its descriptor's ${this.#size} bytes`));
      return;
    }
    this.#hash.update(chunk);
    const previous = this.#held;
    this.#held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    if (this.#bytes !== this.#size) {
      callback(new DigestMismatchError(`blob ${this.#expected} ended after ${this.#bytes} of ${this.#size} bytes`));
      return;
    }
    const actual = `${digestAlgorithm(this.#expected)}:${this.#hash.digest('hex')}`;
    if (actual !== this.#expected) {
      callback(new DigestMismatchError(`blob content hashes to ${actual}, expected ${this.#expected}`));
      return;
    }
    callback(null, this.#held);
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}
