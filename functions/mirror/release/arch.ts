/**
 * Architectures as an `ImageSetConfiguration` names them (oc-mirror's `platform.architectures`),
 * and as the update graph's `arch=` parameter takes them.
 */
export const releaseArchitectures = ['amd64', 'arm64', 'ppc64le', 's390x', 'multi'] as const;
export type ReleaseArch = (typeof releaseArchitectures)[number];

/** The OCI `platform.architecture` of a single-arch release manifest (`multi` is the whole index). */
const ociArchitecture: Readonly<Record<ReleaseArch, string | undefined>> = {
  amd64: 'amd64',
  arm64: 'arm64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  multi: undefined,
};

/** The suffix of release tags (`ocp-release:4.17.3-x86_64`), which Ferry's destination tags keep. */
const tagSuffix: Readonly<Record<ReleaseArch, string>> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  multi: 'multi',
};

/** The OCI architecture of `arch`'s manifest in a release index; undefined for `multi` (the index itself). */
export function ociArchOf(arch: ReleaseArch): string | undefined {
  return ociArchitecture[arch];
}

/** `amd64` → `x86_64`, `arm64` → `aarch64`: the arch as release tags spell it. */
export function releaseTagArch(arch: ReleaseArch): string {
  return tagSuffix[arch];
}
