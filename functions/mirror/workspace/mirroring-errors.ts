import { mappedEntries, type WorkspaceEntry, type WorkspaceError } from './entry.js';

/** oc-mirror writes `mirroring_errors_<timestamp>.txt`; issue 9 pins one file per workspace. */
export const mirroringErrorsFileName = 'mirroring_errors.txt';

/**
 * `mirroring_errors.txt`: one line per failed image, then one per failure that belongs to no
 * image, in the order given — `error mirroring image <reference> error: <cause>`, oc-mirror's
 * line (internal/pkg/batch/common.go, formatErrorMsg / saveErrors). `undefined` when nothing
 * failed: oc-mirror then writes no file. oc-mirror prints `err.Error()` as it is; a cause with a
 * line break would take two lines, so control characters are escaped (`\n`, `\t`, `\u001b`) and
 * every failure stays on its one line.
 */
export function formatMirroringErrors(
  entries: readonly WorkspaceEntry[],
  errors: readonly WorkspaceError[] = [],
): string | undefined {
  const failures: WorkspaceError[] = [
    ...mappedEntries(entries).flatMap((e) => (e.error === undefined ? [] : [{ reference: e.source, cause: e.error }])),
    ...errors,
  ];
  if (failures.length === 0) return undefined;
  return failures
    .map((f) => `error mirroring image ${escapeControl(f.reference)} error: ${escapeControl(f.cause)}\n`)
    .join('');
}

const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters (C0, DEL, C1, line and paragraph separators) as escapes. */
function escapeControl(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}
