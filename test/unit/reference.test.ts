import { describe, expect, it } from 'vitest';
import { InvalidReferenceError } from '../../functions/oci/errors.js';
import {
  formatReference,
  mirrorDestination,
  parseImageReference,
  parseLocation,
  redactUserinfo,
} from '../../functions/oci/reference.js';

const hex64 = 'a'.repeat(64);

describe('parseImageReference', () => {
  it.each([
    ['alpine', 'docker.io', 'library/alpine', 'latest'],
    ['docker://alpine:3.19', 'docker.io', 'library/alpine', '3.19'],
    ['docker.io/library/busybox:1.36', 'docker.io', 'library/busybox', '1.36'],
    ['index.docker.io/bitnami/redis', 'docker.io', 'bitnami/redis', 'latest'],
    ['quay.io/org/app:v1.2.3', 'quay.io', 'org/app', 'v1.2.3'],
    ['localhost/app', 'localhost', 'app', 'latest'],
    ['localhost:5000/a/b/c:tag_1', 'localhost:5000', 'a/b/c', 'tag_1'],
    ['127.0.0.1:5000/ns/app', '127.0.0.1:5000', 'ns/app', 'latest'],
    ['[::1]:5000/app:x', '[::1]:5000', 'app', 'x'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io', 'pause', '3.9'],
    ['ghcr.io/a__b/c--d.e_f:1', 'ghcr.io', 'a__b/c--d.e_f', '1'],
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:prod',
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      'team/app',
      'prod',
    ],
  ])('%s', (input, registry, repository, tag) => {
    expect(parseImageReference(input)).toEqual({ registry, repository, tag });
  });

  it('keeps digests (sha256 and sha512), with or without a tag', () => {
    expect(parseImageReference(`quay.io/a/b@sha256:${hex64}`)).toEqual({
      registry: 'quay.io',
      repository: 'a/b',
      digest: `sha256:${hex64}`,
    });
    const sha512 = `sha512:${'b'.repeat(128)}`;
    expect(parseImageReference(`busybox:1@${sha512}`)).toEqual({
      registry: 'docker.io',
      repository: 'library/busybox',
      tag: '1',
      digest: sha512,
    });
  });

  it.each([
    ['', /empty reference/],
    ['Alpine', /lowercase/],
    ['docker.io/Library/alpine', /lowercase/],
    ['quay.io/a/../b', /invalid repository path/],
    ['quay.io/a//b', /invalid repository path/],
    ['alpine:', /empty tag/],
    [`alpine:${'t'.repeat(129)}`, /longer than 128/],
    ['alpine:-bad', /invalid tag/],
    [`alpine@sha256:${'a'.repeat(63)}`, /64 lowercase hex/],
    [`alpine@sha256:${'A'.repeat(64)}`, /64 lowercase hex/],
    [`alpine@md5:${'a'.repeat(32)}`, /sha256 or sha512/],
    ['alp\u0007ine', /control characters/],
    ['alpine latest', /whitespace/],
    [`quay.io/${'a'.repeat(250)}`, /longer than 255/],
    ['-bad.io/x', /invalid repository name|invalid registry host/],
    ['a/-b', /invalid repository name/],
  ])('rejects %j', (input, message) => {
    expect(() => parseImageReference(input)).toThrow(InvalidReferenceError);
    expect(() => parseImageReference(input)).toThrow(message);
  });
});

describe('parseLocation', () => {
  it('reads oci:DIR[:TAG] layouts', () => {
    expect(parseLocation('oci:/tmp/x:v1')).toEqual({ kind: 'layout', ref: { dir: '/tmp/x', tag: 'v1' } });
    expect(parseLocation('oci:relative/dir')).toEqual({ kind: 'layout', ref: { dir: 'relative/dir' } });
  });
  it('rejects unknown transports and empty layouts', () => {
    const invalid = expect.objectContaining({ name: 'InvalidReferenceError', code: 'INVALID_REFERENCE' });
    expect(() => parseLocation('ftp://host/x')).toThrow(invalid);
    expect(() => parseLocation('oci:')).toThrow(invalid);
    expect(parseLocation('docker://host.io/x').kind).toBe('registry');
  });
});

describe('mirrorDestination (pinned naming)', () => {
  it('is <registry>/<prefix>/<source path>:<tag>', () => {
    const source = parseImageReference('docker.io/library/busybox:1.36');
    expect(formatReference(mirrorDestination(source, '123.dkr.ecr.us-east-1.amazonaws.com/mirror'))).toBe(
      '123.dkr.ecr.us-east-1.amazonaws.com/mirror/library/busybox:1.36',
    );
    expect(formatReference(mirrorDestination(source, 'registry.local:5000'))).toBe(
      'registry.local:5000/library/busybox:1.36',
    );
    expect(formatReference(mirrorDestination(source, 'r.io/a/b/'))).toBe('r.io/a/b/library/busybox:1.36');
  });
  it('keeps the digest of images referenced by digest', () => {
    const source = parseImageReference(`quay.io/org/app@sha256:${hex64}`);
    expect(formatReference(mirrorDestination(source, 'r.io/m'))).toBe(`r.io/m/org/app@sha256:${hex64}`);
  });
});

describe('redactUserinfo', () => {
  it.each([
    ['user:s3cret@quay.io/org/app:v1', 'user:***@quay.io/org/app:v1'],
    ['docker://user:s3cret@quay.io/org/app', 'docker://user:***@quay.io/org/app'],
    [`alpine:3.19@sha256:${hex64}`, `alpine:3.19@sha256:${hex64}`],
    ['quay.io/org/app:v1', 'quay.io/org/app:v1'],
    // The password may hold '/', '@' and ':': everything up to the last '@' before the name is userinfo.
    ['user:p/ss@quay.io/app', 'user:***@quay.io/app'],
    ['user:pa@ss@quay.io', 'user:***@quay.io'],
    ['user:p@s/s:x@quay.io/org/app:v1', 'user:***@quay.io/org/app:v1'],
    ['user::pw@quay.io/app', 'user:***@quay.io/app'],
    [`user:pa@ss/x@quay.io/app@sha256:${hex64}`, `user:***@quay.io/app@sha256:${hex64}`],
    [`docker://user:p/w@quay.io/app:v1@sha256:${hex64}`, `docker://user:***@quay.io/app:v1@sha256:${hex64}`],
    // '@host:port' is no digest; a digest stays, even a malformed one.
    ['user:pw@localhost:5000', 'user:***@localhost:5000'],
    [`quay.io:443/org/app:v1@sha256:${hex64}`, `quay.io:443/org/app:v1@sha256:${hex64}`],
    ['quay.io/app@sha256:abc', 'quay.io/app@sha256:abc'],
    ['user@quay.io/app', 'user@quay.io/app'],
    ['oci:/tmp/a@b:v1', 'oci:/tmp/a@b:v1'],
  ])('%s → %s', (input, shown) => {
    expect(redactUserinfo(input)).toBe(shown);
  });

  it('never echoes a password typed as user:pass@host in an invalid-reference message', () => {
    expect(() => parseImageReference('alice:hunter2@quay.io/org/app')).toThrow(InvalidReferenceError);
    try {
      parseImageReference('alice:hunter2@quay.io/org/app');
    } catch (err) {
      expect(String(err)).not.toContain('hunter2');
      expect(String(err)).toContain('alice:***@quay.io/org/app');
    }
  });
});
