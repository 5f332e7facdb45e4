/**
 * A repository's tags as a registry lists them (16): stable semver, `v` prefixed, pre-releases
 * (`-rc.1`, `-beta.2`, and `-alpine`, which semver reads as a pre-release too), and tags that are
 * not semver (`latest`, `stable`, a date, a two-part version, a named flavour).
 */
export const fixtureTags: readonly string[] = [
  '1.25.5',
  '1.26.0',
  '1.26.3',
  'v1.27.0',
  '1.27.1',
  '1.27.1-alpine',
  '1.27',
  '1.28.0-rc.1',
  '1.28.0',
  'v1.28.0',
  '1.29.0-beta.2',
  '2.0.0',
  'latest',
  'stable',
  '2024-05-01',
  'mainline-alpine',
];

export const digestA = `sha256:${'a'.repeat(64)}`;
export const digestB = `sha256:${'b'.repeat(64)}`;

/** Issue 9's example document, with a real digest in place of its ellipsis. */
export const issueExample = `
apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: registry.k8s.io/pause:3.10
    - name: quay.io/org/app@${digestA}
  blockedImages:                 # a reference whose repository (or whole reference) equals or
    - name: docker.io/library/busybox   # starts with an entry is never mirrored
  repositories:                  # Ferry: mirror the tags of a repository chosen by a policy
    - name: docker.io/library/nginx
      tags:
        include: ['^1\\.2[6-9]\\.']   # regular expressions; a tag must match one (default: all)
        exclude: ['-alpine', 'rc']  # a tag matching any is dropped
        semver: '>=1.26.0 <2'       # a semver range (npm semantics; a leading v is allowed);
                                    # tags that are not semver are dropped when this is set
        latest: 3                   # then keep the N highest by semver
      platforms: [linux/amd64]      # optional, as --platform
`;
