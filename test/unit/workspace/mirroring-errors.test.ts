import { describe, expect, it } from 'vitest';
import { formatMirroringErrors } from '../../../functions/mirror/workspace/mirroring-errors.js';
import { byDigest, byTag, d1 } from './fixtures.js';

describe('formatMirroringErrors (mirroring_errors.txt)', () => {
  it('writes oc-mirror’s line per failed image, then failures of no image, in the order given', () => {
    const entries = [
      byTag('docker.io/library/nginx', '1.27.1', { error: 'manifest unknown' }),
      byTag('docker.io/library/redis', '7.4'),
      byDigest('quay.io/org/app', d1, { error: 'RegistryError: 500 from quay.io' }),
    ];
    const errors = [{ reference: 'docker.io/library/postgres', cause: 'tags/list: 401 unauthorized' }];
    expect(formatMirroringErrors(entries, errors)).toBe(
      'error mirroring image docker.io/library/nginx:1.27.1 error: manifest unknown\n' +
        `error mirroring image quay.io/org/app@${d1} error: RegistryError: 500 from quay.io\n` +
        'error mirroring image docker.io/library/postgres error: tags/list: 401 unauthorized\n',
    );
  });

  it('is undefined when nothing failed (oc-mirror writes no file)', () => {
    expect(formatMirroringErrors([byTag('docker.io/library/redis', '7.4')])).toBeUndefined();
    expect(formatMirroringErrors([], [])).toBeUndefined();
  });

  it('ignores an error on a blocked image: it was never tried', () => {
    expect(
      formatMirroringErrors([byTag('docker.io/library/busybox', '1', { blocked: true, error: 'x' })]),
    ).toBeUndefined();
  });

  it('keeps every failure on one line: control characters are escaped, other text is kept', () => {
    const cause = 'first line\nsecond\r\n\ttabbed \u001b[31mred\u001b[0m \u2028 "quoted" = ünïcode';
    const text = formatMirroringErrors([byTag('docker.io/library/nginx', '1', { error: cause })])!;
    expect(text.split('\n')).toEqual([
      'error mirroring image docker.io/library/nginx:1 error: first line\\nsecond\\r\\n\\ttabbed \\u001b[31mred\\u001b[0m \\u2028 "quoted" = ünïcode',
      '',
    ]);
  });
});
