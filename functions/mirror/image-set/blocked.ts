import { formatReference, parseImageReference } from '../../oci/reference.js';
import { compilePattern, searchPattern } from './pattern.js';

/** One `mirror.blockedImages` entry: oc-mirror's `BlockedImage`. */
export interface BlockedImage {
  /** A regular expression (a plain name is one), searched for anywhere in a reference. */
  name: string;
}

const compiled = new WeakMap<readonly BlockedImage[], RegExp[]>();

/**
 * Whether an image is blocked: never mirrored, reported as `blocked`.
 *
 * oc-mirror v2's rule (`excludeImages` in internal/pkg/cli/executor.go, regular expressions since
 * OCPBUGS-56117): each entry's `name` is a regular expression, searched unanchored (Go's
 * `regexp.MatchString`) in the image's origin as the document wrote it, transport (`docker://`)
 * stripped, and in its destination. So an entry blocks every reference that *contains* it —
 * `docker.io/library/busybox` blocks `docker.io/library/busybox:1.36`, `…@sha256:…` and also
 * `docker.io/library/busybox-extra` (a prefix of a name, not only of a path); anchor it
 * (`^docker\.io/library/busybox(:|@|$)`) to block exactly one repository.
 *
 * Ferry also searches the normalised form of the reference (`busybox:1.36` →
 * `docker.io/library/busybox:1.36`), so an entry written either way blocks an image written
 * either way; oc-mirror, which matches the text as written, misses those. This only ever blocks
 * more, never less, than oc-mirror.
 *
 * @param reference the source as the document or the tag listing names it
 * @param blockedImages the document's entries (patterns compiled once per array)
 * @param destination the destination reference, searched too as oc-mirror does
 */
export function isBlocked(reference: string, blockedImages: readonly BlockedImage[], destination?: string): boolean {
  if (blockedImages.length === 0) return false;
  let patterns = compiled.get(blockedImages);
  if (patterns === undefined) {
    patterns = blockedImages.map((entry) => compilePattern(entry.name));
    compiled.set(blockedImages, patterns);
  }
  const subjects = [stripTransport(reference), normalised(reference), destination && stripTransport(destination)];
  return patterns.some((re) => subjects.some((s) => s !== undefined && s !== '' && searchPattern(re, s)));
}

function stripTransport(reference: string): string {
  const at = reference.indexOf('://');
  return at < 0 ? reference : reference.slice(at + 3);
}

function normalised(reference: string): string | undefined {
  try {
    return formatReference(parseImageReference(reference));
  } catch {
    return undefined; // not a registry reference: matched as written only
  }
}
