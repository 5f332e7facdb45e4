import type { ReleaseArch } from './arch.js';

/** One `mirror.platform.channels` entry: an update-graph channel, its head or a version range. */
export interface ReleaseChannel {
  /** `stable-4.17`. */
  readonly name: string;
  readonly minVersion?: string;
  readonly maxVersion?: string;
}

/** `mirror.platform`: one release image, or channels of the update graph, for some architectures. */
export interface PlatformSelection {
  /** A release image by tag or digest (oc-mirror mirrors it alone, channels aside). */
  readonly release?: string;
  readonly channels: readonly ReleaseChannel[];
  /** Without duplicates, in document order; `[amd64]` when the document names none. */
  readonly architectures: readonly ReleaseArch[];
}
