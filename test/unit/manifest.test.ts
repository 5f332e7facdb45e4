import { describe, expect, it } from 'vitest';
import { ManifestInvalidError } from '../../functions/oci/errors.js';
import { parseManifest, parsePlatform, platformMatches } from '../../functions/oci/manifest.js';
import { MediaType } from '../../functions/oci/media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = {
  schemaVersion: 2,
  config: { mediaType: MediaType.ociConfig, digest: d('a'), size: 2 },
  layers: [{ mediaType: MediaType.ociLayerGzip, digest: d('b'), size: 10 }],
};

describe('parseManifest', () => {
  it('keeps the exact bytes and takes the media type from the document, the header, or the shape', () => {
    const bytes = Buffer.from(
      `{ "mediaType": "${MediaType.dockerManifest}",\n "schemaVersion": 2, "config": ${JSON.stringify(image.config)}, "layers": [] }`,
    );
    const m = parseManifest(bytes);
    expect(m.kind).toBe('image');
    expect(m.mediaType).toBe(MediaType.dockerManifest);
    expect(m.bytes).toBe(bytes);
    expect(parseManifest(Buffer.from(JSON.stringify(image)), `${MediaType.ociManifest}; charset=utf-8`).mediaType).toBe(
      MediaType.ociManifest,
    );
    expect(parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, manifests: [] }))).kind).toBe('index');
  });

  it('accepts artifacts with any artifactType and config media type', () => {
    const artifact = {
      ...image,
      artifactType: 'application/vnd.cncf.helm.chart',
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: d('c'), size: 3 },
    };
    const m = parseManifest(Buffer.from(JSON.stringify(artifact)));
    expect(m.kind === 'image' && m.image.artifactType).toBe('application/vnd.cncf.helm.chart');
  });

  it('rejects schema 1 with a message that says what to do', () => {
    expect(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'x', fsLayers: [] })))).toThrow(
      /schema 1 .* not supported; re-push/,
    );
    expect(() => parseManifest(Buffer.from('{}'), MediaType.dockerManifestV1Signed)).toThrow(ManifestInvalidError);
  });

  it('rejects oversized, non-JSON and malformed manifests', () => {
    const invalid = { name: 'ManifestInvalidError', code: 'MANIFEST_INVALID', retryable: false };
    // One byte over 4 MiB is refused; 4 MiB itself is parsed (and refused only as JSON).
    expect(() => parseManifest(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20))).toThrow(expect.objectContaining(invalid));
    expect(() => parseManifest(Buffer.alloc(4 * 1024 * 1024, 0x20))).toThrow(
      expect.objectContaining({ ...invalid, cause: expect.any(SyntaxError) }),
    );
    expect(() => parseManifest(Buffer.from('not json'))).toThrow(
      expect.objectContaining({ ...invalid, cause: expect.any(SyntaxError) }),
    );
    const badDigest = { ...image, layers: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] };
    expect(() => parseManifest(Buffer.from(JSON.stringify(badDigest)))).toThrow(expect.objectContaining(invalid));
    // The same manifest with a well-formed digest parses: the digest was the fault.
    expect(() => parseManifest(Buffer.from(JSON.stringify({ ...image, layers: [image.layers[0]] })))).not.toThrow();
  });
});

describe('platforms', () => {
  it('parses and matches os/arch[/variant], arm64 defaulting to v8', () => {
    expect(parsePlatform('linux/arm/v7')).toEqual({ os: 'linux', architecture: 'arm', variant: 'v7' });
    expect(() => parsePlatform('linux')).toThrow(ManifestInvalidError);
    expect(platformMatches({ os: 'linux', architecture: 'arm64' }, parsePlatform('linux/arm64/v8'))).toBe(true);
    expect(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, parsePlatform('linux/arm64'))).toBe(
      true,
    );
    expect(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, parsePlatform('linux/arm/v7'))).toBe(
      false,
    );
    expect(platformMatches(undefined, parsePlatform('linux/amd64'))).toBe(false);
  });
});
