import { describe, expect, it } from 'vitest';
import { formatMapping } from '../../../functions/mirror/workspace/mapping.js';
import { ErrorNames } from '../../../functions/oci/errors.js';
import { formatReference, parseImageReference } from '../../../functions/oci/reference.js';
import { byDigest, byTag, d1, target } from './fixtures.js';

describe('formatMapping (mapping.txt)', () => {
  it('writes docker://source=docker://destination per line in the order given, as oc-mirror v2 does', () => {
    const entries = [byTag('registry.redhat.io/ubi8/ubi', 'latest'), byDigest('registry.redhat.io/ubi8-minimal', d1)];
    expect(formatMapping(entries)).toBe(
      'docker://registry.redhat.io/ubi8/ubi:latest=docker://mirror.example.com:5000/mynamespace/ubi8/ubi:latest\n' +
        `docker://registry.redhat.io/ubi8-minimal@${d1}=docker://mirror.example.com:5000/mynamespace/ubi8-minimal@${d1}\n`,
    );
  });

  it('keeps the given order rather than sorting', () => {
    const entries = [byTag('quay.io/z/app', '2'), byTag('quay.io/a/app', '1')];
    expect(
      formatMapping(entries)
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('=')[0]),
    ).toEqual(['docker://quay.io/z/app:2', 'docker://quay.io/a/app:1']);
  });

  it('writes bare references with transport: false (oc-mirror v1, `oc image mirror -f`)', () => {
    expect(formatMapping([byTag('docker.io/library/nginx', '1.27.1')], { transport: false })).toBe(
      `docker.io/library/nginx:1.27.1=${target}/library/nginx:1.27.1\n`,
    );
  });

  it('leaves blocked images out and keeps failed ones (the mapping is what the set maps)', () => {
    const entries = [
      byTag('docker.io/library/busybox', '1.36', { blocked: true }),
      byTag('docker.io/library/nginx', '1.27.1', { error: 'manifest unknown' }),
    ];
    expect(formatMapping(entries, { transport: false })).toBe(
      `docker.io/library/nginx:1.27.1=${target}/library/nginx:1.27.1\n`,
    );
  });

  it('writes a repeated image once and never doubles a docker:// already there', () => {
    const entry = byTag('quay.io/org/app', 'v1');
    const prefixed = { ...entry, source: `docker://${entry.source}`, destination: `docker://${entry.destination}` };
    expect(formatMapping([entry, prefixed, entry])).toBe(`docker://quay.io/org/app:v1=docker://${target}/org/app:v1\n`);
  });

  it('writes an oci: layout as given: it is no registry reference', () => {
    const entry = { source: 'oci:/data/layout:v1', destination: `${target}/app:v1`, byDigest: false };
    expect(formatMapping([entry])).toBe(`oci:/data/layout:v1=docker://${target}/app:v1\n`);
  });

  it('is empty for no entries', () => {
    expect(formatMapping([])).toBe('');
  });

  it('splits back into the references it was given', () => {
    const entries = [byTag('registry.k8s.io/pause', '3.10'), byDigest('quay.io/org/app', d1)];
    const lines = formatMapping(entries).trimEnd().split('\n');
    const pairs = lines.map((line) => line.split('=').map((ref) => formatReference(parseImageReference(ref))));
    expect(pairs).toEqual(entries.map((e) => [e.source, e.destination]));
  });

  it.each([
    ['an "="', 'quay.io/org/app:v1=x'],
    ['a line break', 'quay.io/org/app:v1\nquay.io/evil:x'],
    ['a space', 'quay.io/org/app v1'],
    ['a control character', 'quay.io/org/app:\u0007v1'],
    ['nothing', ''],
  ])('refuses a reference holding %s (InvalidReferenceError)', (_what, source) => {
    const entry = { source, destination: `${target}/org/app:v1`, byDigest: false };
    expect(() => formatMapping([entry])).toThrow(expect.objectContaining({ name: ErrorNames.invalidReference }));
  });
});
