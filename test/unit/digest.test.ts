import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Digest, digestOf, parseDigest, verifyDigest } from '../../functions/oci/digest.js';
import { DigestMismatchError } from '../../functions/oci/errors.js';

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}` as Digest;

async function run(chunks: Buffer[], digest: Digest, size: number): Promise<{ out: Buffer; error?: unknown }> {
  const received: Buffer[] = [];
  async function* source() {
    yield* chunks;
  }
  try {
    for await (const chunk of verifyDigest(source(), digest, size)) received.push(chunk);
    return { out: Buffer.concat(received) };
  } catch (error) {
    return { out: Buffer.concat(received), error };
  }
}

describe('verifyDigest', () => {
  const chunks = [Buffer.from('hello '), Buffer.from('ferry '), Buffer.from('world')];
  const whole = Buffer.concat(chunks);

  it('passes content through unchanged when digest and size match', async () => {
    const { out, error } = await run(chunks, sha(whole), whole.length);
    expect(error).toBeUndefined();
    expect(out.equals(whole)).toBe(true);
  });

  it('holds the last chunk back when the digest is wrong, so a consumer never gets complete wrong content', async () => {
    const { out, error } = await run(chunks, sha(Buffer.from('other')), whole.length);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(out.length).toBeLessThan(whole.length);
  });

  it('fails as soon as content exceeds the declared size', async () => {
    const { error } = await run(chunks, sha(whole), whole.length - 1);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(String(error)).toMatch(/longer than/);
  });

  it('fails when content ends short', async () => {
    const { error } = await run(chunks.slice(0, 2), sha(whole), whole.length);
    expect(String(error)).toMatch(/ended after 12 of 17 bytes/);
  });

  it('verifies sha512 and empty blobs', async () => {
    const d512 = `sha512:${createHash('sha512').update(whole).digest('hex')}` as Digest;
    expect((await run(chunks, d512, whole.length)).error).toBeUndefined();
    expect((await run([], sha(Buffer.alloc(0)), 0)).error).toBeUndefined();
  });
});

describe('digests', () => {
  it('computes and validates', () => {
    expect(digestOf(Buffer.from(''))).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const invalid = expect.objectContaining({ name: 'InvalidReferenceError', code: 'INVALID_REFERENCE' });
    expect(() => parseDigest('sha256:xyz')).toThrow(invalid);
    expect(() => parseDigest(`sha256:${'a'.repeat(63)}`)).toThrow(invalid);
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
  });
});
