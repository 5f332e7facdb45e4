import { InvalidReferenceError } from '../../oci/errors.js';
import { mappedEntries, type WorkspaceEntry } from './entry.js';

/** The transport oc-mirror v2 writes in front of every registry reference of its mapping. */
export const dockerTransport = 'docker://';

/** Options of {@link formatMapping}. */
export interface MappingOptions {
  /**
   * Write `docker://` in front of registry references, as oc-mirror v2 does (default). `false`
   * gives oc-mirror v1's and `oc image mirror -f`'s bare `source=destination` lines.
   */
  readonly transport?: boolean;
}

/**
 * `mapping.txt`: one `source=destination` line per mapped image, in the order given (oc-mirror
 * writes its collection order), blocked images left out, a line repeated only once. Used for
 * `dry-run/mapping.txt` as well: oc-mirror's dry run writes the same lines there, so there is no
 * separate dry-run format.
 *
 * oc-mirror v2 writes `img.Source + "=" + img.Destination + "\n"` where both are
 * `ReferenceWithTransport` (`docker://…`): internal/pkg/cli/dryrun.go (processImageForDryRun),
 * internal/pkg/additional/local_stored_collector.go (resolveAdditionalImageSrcDest), and the
 * e2e check `docker://registry.redhat.io.*=docker://…` in tests/e2e/test/e2e/oc_mirror_v2.go.
 *
 * @throws InvalidReferenceError when a reference holds `=`, whitespace or a control character:
 *   such a line could not be split back into its two references.
 */
export function formatMapping(entries: readonly WorkspaceEntry[], options: MappingOptions = {}): string {
  const transport = options.transport ?? true;
  const lines = new Set<string>();
  for (const entry of mappedEntries(entries)) {
    lines.add(`${mappingRef(entry.source, transport)}=${mappingRef(entry.destination, transport)}\n`);
  }
  return [...lines].join('');
}

/** A reference as a mapping line writes it: checked, and with or without `docker://`. */
function mappingRef(reference: string, transport: boolean): string {
  // eslint-disable-next-line no-control-regex
  if (reference === '' || /[=\s\u0000-\u001f\u007f]/.test(reference)) {
    const shown = JSON.stringify(reference.length > 100 ? `${reference.slice(0, 97)}...` : reference);
    throw new InvalidReferenceError(
      `cannot write ${shown} to a mapping: empty, or holds "=", whitespace or a control character`,
    );
  }
  // Ferry's own layout transport (`oci:DIR[:TAG]`) is written as given: it is not a registry reference.
  if (reference.startsWith('oci:')) return reference;
  const bare = reference.startsWith(dockerTransport) ? reference.slice(dockerTransport.length) : reference;
  return transport ? `${dockerTransport}${bare}` : bare;
}
