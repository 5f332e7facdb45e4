/** `Transfer-Encoding: chunked` (RFC 9112 §7.1): sizes, data, CRLFs and trailers; throws on malformed input. */
export class ChunkedDecoder {
  #state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  #line = '';
  #remaining = 0;

  get done(): boolean {
    return this.#state === 'done';
  }

  /** The data bytes in `input` (copied). */
  write(input: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < input.length && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#remaining, input.length - i);
        out.push(Buffer.from(input.subarray(i, i + take)));
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#state = 'data-end';
        continue;
      }
      const nl = input.indexOf(10, i);
      const end = nl < 0 ? input.length : nl + 1;
      this.#line += input.toString('latin1', i, end);
      i = end;
      if (nl < 0) {
        if (this.#line.length > 4096) throw new Error('chunked encoding: line too long');
        continue;
      }
      const line = this.#line.replace(/\r?\n$/, '');
      this.#line = '';
      if (this.#state === 'data-end') {
        if (line !== '') throw new Error('chunked encoding: data longer than its size');
        this.#state = 'size';
      } else if (this.#state === 'size') {
        const size = /^([0-9a-fA-F]{1,12})(?:;.*)?$/.exec(line.trim());
        if (!size) throw new Error('chunked encoding: bad chunk size');
        this.#remaining = parseInt(size[1]!, 16);
        this.#state = this.#remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.#state = 'done';
      }
    }
    return out;
  }
}
