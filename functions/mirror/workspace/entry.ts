/**
 * One image of a run as the workspace files see it. Shaped like `SetImage` (docs/image-sets.md)
 * so that an expanded set's images can be passed as they are, plus what the run learnt about each.
 */
export interface WorkspaceEntry {
  /** Full source reference as listed or resolved (tag or digest), `docker://` optional. */
  readonly source: string;
  /** `<registry>/<prefix>/<source path>[:tag|@digest]`. */
  readonly destination: string;
  /** The manifest digest the run resolved, when it got that far. */
  readonly digest?: string;
  /** Mirrored by digest (goes to the IDMS) rather than by tag (the ITMS). */
  readonly byDigest: boolean;
  /** Matched `mirror.blockedImages`: reported, never copied, never mapped. */
  readonly blocked?: boolean;
  /** Why the image failed; a failed image is listed in mirroring_errors.txt and in no mirror set. */
  readonly error?: string;
}

/** A failure that belongs to no single entry (a repository whose tags could not be listed, say). */
export interface WorkspaceError {
  readonly reference: string;
  readonly cause: string;
}

/** Entries a run maps: all but the blocked ones (oc-mirror leaves blocked images out of mapping.txt too). */
export function mappedEntries(entries: readonly WorkspaceEntry[]): WorkspaceEntry[] {
  return entries.filter((e) => e.blocked !== true);
}

/** Entries that reached their destination: what the cluster resources may point a cluster at. */
export function mirroredEntries(entries: readonly WorkspaceEntry[]): WorkspaceEntry[] {
  return entries.filter((e) => e.blocked !== true && e.error === undefined);
}
