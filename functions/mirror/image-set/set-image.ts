// The unit of a set's expansion, in a file of its own: every content source (releases, catalogs,
// charts) yields it, and expand.ts imports those sources.

/** One image an image set selects (docs/image-sets.md "Types shared by the slices"). */
export interface SetImage {
  /** Full reference as listed/resolved (tag or digest), normalised: `docker.io/library/nginx:1.27.0`. */
  source: string;
  /** `<registry>/<prefix>/<source path>[:tag|@digest]`, as `mirrorPairs` names it. */
  destination: string;
  /** Mirrored by digest (an IDMS entry) rather than by tag (ITMS). */
  byDigest: boolean;
  platforms?: string[];
  /** Matched `mirror.blockedImages`: reported as action "blocked", never copied. */
  blocked?: boolean;
  /** An OpenShift release image (`mirror.platform`): its signatures travel with it (release-signatures/). */
  release?: true;
  /** Images a Helm chart names: where (`podinfo-6.5.0 values.yaml .image`), for the plan. */
  foundIn?: string[];
}
