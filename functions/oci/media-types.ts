/** Media types and header names of the OCI image and distribution specs. */
export const MediaType = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export const indexMediaTypes: readonly string[] = [MediaType.ociIndex, MediaType.dockerManifestList];
export const imageManifestMediaTypes: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const schema1MediaTypes: readonly string[] = [MediaType.dockerManifestV1, MediaType.dockerManifestV1Signed];

/** Every manifest type Ferry reads, for `Accept` (a registry answers 404 for an index it was not asked for). */
export const manifestAccept = [...indexMediaTypes, ...imageManifestMediaTypes].join(', ');

/** Layers a registry may not redistribute: fetched from their `urls` only when asked. */
export const foreignLayerMediaTypes: readonly string[] = [
  MediaType.dockerForeignLayer,
  MediaType.ociLayerNondistributable,
  MediaType.ociLayerNondistributableGzip,
  MediaType.ociLayerNondistributableZstd,
];

export const Header = {
  accept: 'accept',
  authorization: 'authorization',
  contentDigest: 'docker-content-digest',
  contentLength: 'content-length',
  contentRange: 'content-range',
  contentType: 'content-type',
  location: 'location',
  link: 'link',
  range: 'range',
  retryAfter: 'retry-after',
  wwwAuthenticate: 'www-authenticate',
  ociSubject: 'oci-subject',
  userAgent: 'user-agent',
} as const;

/** The largest manifest Ferry reads or writes (ECR's and most registries' limit). */
export const maxManifestBytes = 4 * 1024 * 1024;
