import { Readable } from 'node:stream';
import { verifyDigest } from './digest.js';
import { DigestMismatchError } from './errors.js';
import type { Descriptor } from './manifest.js';
import type { Repository } from './repository.js';

/**
 * A blob's bytes from its start as a stream that verifies size and digest as it is read (the last
 * chunk is held until the digest matched): what reads a blob for its content rather than to copy it.
 */
export async function openVerifiedBlob(repository: Repository, descriptor: Descriptor): Promise<Readable> {
  const { body, offset } = await repository.openBlob(descriptor, 0);
  if (offset !== 0) {
    body.destroy();
    throw new DigestMismatchError(`${repository.display}: blob ${descriptor.digest} was served from byte ${offset}`);
  }
  return Readable.from(verifyDigest(body as AsyncIterable<Buffer>, descriptor.digest, descriptor.size), {
    objectMode: false,
  });
}

/** A small blob (a config) whole, verified; callers cap `descriptor.size` first. */
export async function readVerifiedBlob(repository: Repository, descriptor: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const stream = await openVerifiedBlob(repository, descriptor);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks);
}
