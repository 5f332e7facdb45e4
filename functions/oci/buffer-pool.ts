/**
 * Reusable read buffers for blob streams. A socket reads into a buffer taken from the pool; the
 * chunk travels (hashed, counted) to the upload socket, which gives it back once the kernel has
 * the bytes. Measured here (docs/benchmarks.md): a fresh buffer per socket read — what Node
 * sockets, and so undici, allocate — made page faults most of a blob copy's CPU on this VM.
 *
 * WARNING: give a buffer back only when nothing can read it any more (after its write
 * completed). A buffer given back too early is overwritten by a later read; the destination's
 * own digest check on `PUT ?digest=` would then refuse the upload, but never rely on that.
 */
export class BufferPool {
  readonly bufferSize: number;
  readonly #keep: number;
  readonly #free: Buffer[] = [];
  /** Memory this pool handed out; a chunk of anything else given back is ignored. */
  readonly #owned = new WeakSet<ArrayBuffer>();
  /** Memory in #free, so a chunk given back twice is not handed out twice. */
  readonly #idle = new WeakSet<ArrayBuffer>();

  /** `keep`: how many free buffers are kept at most (the rest are left to the garbage collector). */
  constructor(bufferSize = 256 * 1024, keep = 64) {
    this.bufferSize = bufferSize;
    this.#keep = keep;
  }

  /** A buffer to read into: a free one, or a new one when every buffer is lent out. */
  take(): Buffer {
    const buffer = this.#free.pop();
    if (buffer !== undefined) {
      this.#idle.delete(buffer.buffer as ArrayBuffer);
      return buffer;
    }
    const fresh = Buffer.allocUnsafeSlow(this.bufferSize);
    this.#owned.add(fresh.buffer as ArrayBuffer);
    return fresh;
  }

  /** Gives back the buffer a chunk was read into (any view of it); chunks of other memory are ignored. */
  give(chunk: Uint8Array): void {
    const memory = chunk.buffer as ArrayBuffer;
    if (!this.#owned.has(memory) || this.#idle.has(memory) || this.#free.length >= this.#keep) return;
    this.#idle.add(memory);
    this.#free.push(Buffer.from(memory, 0, this.bufferSize));
  }

  /** Free buffers held now (for tests and diagnostics). */
  get available(): number {
    return this.#free.length;
  }
}

/** The pool every transport of the process shares: a chunk read by one client is given back by another's upload. */
export const sharedBufferPool = new BufferPool();
