/** A tar block: headers, and the unit entry data is padded to. */
export const tarBlock = 512;

/** The largest size the 11 octal digits of a ustar header hold (8 GiB - 1); larger sizes use base-256 (GNU, star). */
const maxOctalSize = 8 ** 11 - 1;

/**
 * A ustar header for a regular file. Written by hand rather than through tar-stream's pack: the
 * archive writer puts entries at known byte offsets in a file it can truncate back when a source
 * blob fails half way, which a pack stream cannot undo. tar-stream (and GNU tar) read the result.
 */
export function ustarHeader(name: string, size: number, mtime: Date = new Date(0)): Buffer {
  const header = Buffer.alloc(tarBlock);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name longer than 100 bytes: ${name}`);
  header.write(name, 0, 100, 'utf8');
  writeOctal(header, 100, 8, 0o644);
  writeOctal(header, 108, 8, 0);
  writeOctal(header, 116, 8, 0);
  if (size <= maxOctalSize) writeOctal(header, 124, 12, size);
  else writeBase256(header, 124, 12, size);
  writeOctal(header, 136, 12, Math.floor(mtime.getTime() / 1000));
  header.write('0', 156, 1, 'ascii');
  header.write('ustar\u000000', 257, 8, 'ascii');
  // The checksum is computed with its own field as spaces, then written as 6 octal digits, NUL, space.
  header.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return header;
}

/** Bytes an entry of `size` takes in the archive: its header and its data padded to a block. */
export function entrySpan(size: number): number {
  return tarBlock + paddedSize(size);
}

/** `size` rounded up to whole blocks. */
export function paddedSize(size: number): number {
  return Math.ceil(size / tarBlock) * tarBlock;
}

/** The end of an archive: two zero blocks. */
export const tarTrailer = Buffer.alloc(2 * tarBlock);

function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  header.write(`${value.toString(8).padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

function writeBase256(header: Buffer, offset: number, length: number, value: number): void {
  let rest = value;
  for (let i = offset + length - 1; i > offset; i--) {
    header[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  header[offset] = 0x80;
}
