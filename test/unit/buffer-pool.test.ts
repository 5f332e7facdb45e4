import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../functions/oci/buffer-pool.js';

describe('BufferPool', () => {
  it('hands a buffer given back out again instead of allocating', () => {
    const pool = new BufferPool(1024, 4);
    const first = pool.take();
    expect(first.length).toBe(1024);
    pool.give(first.subarray(10, 20));
    expect(pool.available).toBe(1);
    const again = pool.take();
    expect(again.buffer).toBe(first.buffer);
    expect(again.length).toBe(1024);
    expect(pool.available).toBe(0);
  });

  it('ignores memory it did not hand out, and a buffer given back twice', () => {
    const pool = new BufferPool(1024, 4);
    pool.give(Buffer.alloc(1024));
    pool.give(Buffer.from('small, from the shared slab'));
    expect(pool.available).toBe(0);
    const lent = pool.take();
    pool.give(lent);
    pool.give(lent.subarray(0, 5));
    expect(pool.available).toBe(1);
    // Handed out once, not twice: a second take allocates.
    const a = pool.take();
    const b = pool.take();
    expect(a.buffer).toBe(lent.buffer);
    expect(b.buffer).not.toBe(lent.buffer);
  });

  it('keeps at most `keep` free buffers', () => {
    const pool = new BufferPool(256, 2);
    const lent = [pool.take(), pool.take(), pool.take()];
    for (const buffer of lent) pool.give(buffer);
    expect(pool.available).toBe(2);
  });
});
