import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDigest } from '../../../functions/oci/digest.js';
import { createResumableHash } from '../../../functions/oci/resumable-hash.js';
import { Rng } from '../../support/fixtures.js';

const seed = Number(process.env.FERRY_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe('ResumableHash (hash-wasm SHA-256 whose state goes into a checkpoint)', () => {
  const rng = new Rng(seed);
  const first = rng.bytes(3 * 1024 * 1024 + 17);
  const second = rng.bytes(2 * 1024 * 1024 + 5);
  const digest = parseDigest(`sha256:${createHash('sha256').update(first).update(second).digest('hex')}`);

  it(`matches node:crypto over bytes hashed in two processes (seed ${seed})`, async () => {
    const hash = await createResumableHash(digest);
    hash.update(first);
    const state = hash.save();
    expect(state).toMatch(/^[A-Za-z0-9+/]+=*$/);
    // Another process loads the state (base64, as in a checkpoint) and hashes the rest.
    const script = `
      import { createSHA256 } from 'hash-wasm';
      const chunks = [];
      for await (const c of process.stdin) chunks.push(c);
      const h = await createSHA256();
      h.init();
      h.load(Buffer.from(process.argv[1], 'base64'));
      h.update(Buffer.concat(chunks));
      process.stdout.write('sha256:' + h.digest('hex'));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, state], {
      input: second,
      cwd: process.cwd(),
    }).toString();
    expect(out).toBe(digest);
  });

  it('restores a saved state in a new hasher and gives the same digest; the state is stable', async () => {
    const a = await createResumableHash(digest);
    a.update(first);
    const state = a.save();
    const b = await createResumableHash(digest, state);
    expect(b.save()).toBe(state);
    b.update(second);
    expect(b.digest()).toBe(digest);
  });

  it('refuses a state that is not one', async () => {
    await expect(createResumableHash(digest, Buffer.from('not a state').toString('base64'))).rejects.toThrow();
  });
});
