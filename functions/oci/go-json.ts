/** `JSON.stringify` with Go's `json.Marshal` escaping (HTML-safe: `<`, `>`, `&`, U+2028, U+2029). */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A string map with its keys in the order Go's `json.Marshal` writes a map: sorted bytewise. */
export function sortedKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
