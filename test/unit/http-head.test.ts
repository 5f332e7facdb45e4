import { describe, expect, it } from 'vitest';
import { parseHead, parseStatusLine } from '../../functions/oci/http-head.js';

describe('parseStatusLine (CONNECT answers and streamed responses alike)', () => {
  it.each([
    ['HTTP/1.1 200 OK', 200],
    ['HTTP/1.0 200 Connection established', 200],
    ['HTTP/1.1 407 Proxy Authentication Required', 407],
    ['HTTP/1.1 204', 204],
    ['HTTP/1.1 502 ', 502],
  ])('%j → %d', (line, status) => {
    expect(parseStatusLine(line)).toBe(status);
  });

  it.each([
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 20 OK',
    'HTTP/2 200',
    'HTTP/1.2 200 OK',
    'HTTP/1.1200 OK',
    'SSH-2.0-OpenSSH_9.6',
    '',
    ' HTTP/1.1 200 OK',
  ])('%j is no status line', (line) => {
    expect(parseStatusLine(line)).toBeUndefined();
  });
});

describe('parseHead', () => {
  it('reads the status and the fields, lower-casing names and collecting repeats', () => {
    expect(
      parseHead('HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-9/10\r\nLink: <a>\r\nlink:  <b> \r\nX-Empty:'),
    ).toEqual({
      status: 206,
      headers: { 'content-range': 'bytes 0-9/10', link: ['<a>', '<b>'], 'x-empty': '' },
    });
  });

  it('refuses a head with a malformed status line or a field line without a name', () => {
    expect(parseHead('HTTP/1.1 2000 OK\r\nA: b')).toBeUndefined();
    expect(parseHead('HTTP/1.1 200 OK\r\n: no name')).toBeUndefined();
    expect(parseHead('HTTP/1.1 200 OK\r\nno colon')).toBeUndefined();
  });
});
