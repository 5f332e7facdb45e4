import { describe, expect, it } from 'vitest';
import { ChunkedDecoder } from '../../functions/oci/chunked-decoder.js';

const wire = Buffer.from('5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: yes\r\n\r\n');

/** Feeds `input` in pieces cut at `cuts` and returns the decoded bytes and whether the decoder finished. */
function decode(input: Buffer, cuts: number[]): { body: string; done: boolean } {
  const decoder = new ChunkedDecoder();
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...cuts, input.length]) {
    out.push(...decoder.write(input.subarray(from, cut)));
    from = cut;
  }
  return { body: Buffer.concat(out).toString(), done: decoder.done };
}

describe('ChunkedDecoder (RFC 9112 §7.1)', () => {
  it('decodes sizes, extensions, data and trailers in one piece', () => {
    expect(decode(wire, [])).toEqual({ body: 'hello, world', done: true });
  });

  it('decodes the same whatever the reads split: every single cut point', () => {
    for (let cut = 1; cut < wire.length; cut++) {
      expect(decode(wire, [cut]), `cut at ${cut}`).toEqual({ body: 'hello, world', done: true });
    }
  });

  it('is not done before the last chunk and trailers end, and takes nothing after', () => {
    expect(decode(wire.subarray(0, wire.length - 2), []).done).toBe(false);
    const decoder = new ChunkedDecoder();
    decoder.write(wire);
    expect(decoder.write(Buffer.from('5\r\nextra\r\n'))).toEqual([]);
  });

  it.each([
    ['a size that is not hex', 'zz\r\n'],
    ['data longer than its size', '2\r\nabc\r\n'],
    ['a size line without end', `${'1'.repeat(5000)}`],
  ])('throws on %s', (_what, input) => {
    expect(() => new ChunkedDecoder().write(Buffer.from(input))).toThrow(Error);
  });
});
