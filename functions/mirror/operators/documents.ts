import { parseAllDocuments } from 'yaml';
import { CatalogError } from './errors.js';

// How opm reads a catalog file: k8s.io/apimachinery's YAMLOrJSONDecoder (operator-registry
// alpha/declcfg/load.go WalkMetasReader). A file whose first non-blank character is `{` is a JSON
// stream (opm render writes one object after another, not an array); anything else is YAML, one
// document per `---`.

/** One document of a catalog file: its position (1-based, as the error names it) and its value. */
export interface RawDocument {
  readonly where: string;
  readonly value: unknown;
}

/**
 * The documents of one file. Empty YAML documents are skipped (as the YAML decoder skips them).
 * `maxDocuments` bounds what one file may yield.
 */
export function splitDocuments(path: string, text: string, maxDocuments: number): RawDocument[] {
  const documents = /^\s*\{/.test(text) ? splitJsonStream(path, text) : splitYaml(path, text);
  if (documents.length > maxDocuments) {
    throw new CatalogError('CATALOG_LIMIT', path, `more than ${maxDocuments} documents`);
  }
  return documents;
}

function splitYaml(path: string, text: string): RawDocument[] {
  const out: RawDocument[] = [];
  parseAllDocuments(text).forEach((doc, i) => {
    const where = `${path}#${i + 1}`;
    const error = doc.errors[0];
    if (error !== undefined) throw new CatalogError('CATALOG_INVALID', where, `YAML: ${error.message}`);
    // maxAliasCount bounds alias expansion ("billion laughs"); YAML anchors are rare in catalogs.
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value !== null && value !== undefined) out.push({ where, value });
  });
  return out;
}

/**
 * Concatenated JSON values: scans for the end of each top-level value (strings and escapes
 * respected) and parses it alone, so an error names the document, not the file offset.
 */
function splitJsonStream(path: string, text: string): RawDocument[] {
  const out: RawDocument[] = [];
  let start = -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) out.push(parseJson(`${path}#${out.length + 1}`, text.slice(start, i + 1)));
      if (depth < 0) throw new CatalogError('CATALOG_INVALID', `${path}#${out.length + 1}`, `JSON: unexpected "${c}"`);
    } else if (depth === 0 && !/\s/.test(c!)) {
      throw new CatalogError(
        'CATALOG_INVALID',
        `${path}#${out.length + 1}`,
        `JSON: unexpected "${c}" between documents`,
      );
    }
  }
  if (depth !== 0)
    throw new CatalogError('CATALOG_INVALID', `${path}#${out.length + 1}`, 'JSON: unexpected end of file');
  return out;
}

function parseJson(where: string, text: string): RawDocument {
  try {
    return { where, value: JSON.parse(text) };
  } catch (cause) {
    throw new CatalogError('CATALOG_INVALID', where, `JSON: ${(cause as Error).message}`, { cause });
  }
}
