import { CatalogError } from './errors.js';
import {
  type Catalog,
  type CatalogBundle,
  type CatalogChannel,
  type CatalogPackage,
  compareStrings,
  type Json,
  type OtherDocument,
  Schema,
} from './model.js';

// The filtered catalog as opm writes one: operator-registry alpha/declcfg/write.go WriteFS with
// WriteJSON, as oc-mirror's catalog_handler.go saveDeclarativeConfig calls it — one directory per
// package holding `catalog.json`, documents of no package in a root `catalog.json`; in each file the
// package, its channels by name, its bundles by name, its other documents by schema (stable), then
// its deprecations; each document indented by four spaces and followed by a newline (json.Encoder
// with SetIndent("", "    ") and SetEscapeHTML(false)), fields in declcfg's struct order, and the
// documents of other schemas with their keys sorted (declcfg.Meta re-encodes them from a Go map).

/** The catalog's files: path relative to the configs directory → bytes. Same catalog, same bytes. */
export function writeCatalog(catalog: Catalog): Map<string, Buffer> {
  const byPackage = new Map<
    string,
    { p: CatalogPackage[]; c: CatalogChannel[]; b: CatalogBundle[]; o: OtherDocument[] }
  >();
  const group = (name: string) => {
    let g = byPackage.get(name);
    if (g === undefined) byPackage.set(name, (g = { p: [], c: [], b: [], o: [] }));
    return g;
  };
  catalog.packages.forEach((p) => group(p.name).p.push(p));
  catalog.channels.forEach((c) => group(c.package).c.push(c));
  catalog.bundles.forEach((b) => group(b.package).b.push(b));
  const rootOthers: OtherDocument[] = [];
  for (const o of catalog.others) {
    if (o.package === undefined || o.package === '') rootOthers.push(o);
    else group(o.package).o.push(o);
  }
  const files = new Map<string, Buffer>();
  for (const name of [...byPackage.keys()].sort(compareStrings)) {
    // declcfg.WriteFS: a package name must be a single local path element.
    if (name === '.' || name === '..' || name.includes('/') || name.includes('\\')) {
      throw new CatalogError('CATALOG_INVALID', name, 'invalid package name: must be a single path element');
    }
    const g = byPackage.get(name)!;
    const documents: Json[] = [
      ...g.p.map(packageDocument),
      ...g.c.sort(byName).map(channelDocument),
      ...g.b.sort(byName).map(bundleDocument),
      ...othersOf(g.o),
    ];
    files.set(`${name}/catalog.json`, encode(documents));
  }
  if (rootOthers.length > 0) files.set('catalog.json', encode(othersOf(rootOthers)));
  return files;
}

function othersOf(others: readonly OtherDocument[]): Json[] {
  const plain = others.filter((o) => o.schema !== Schema.deprecations);
  const stable = plain.map((o, i) => ({ o, i })).sort((a, b) => compareStrings(a.o.schema, b.o.schema) || a.i - b.i);
  return [
    ...stable.map(({ o }) => sortKeys(o.blob)),
    ...others.filter((o) => o.schema === Schema.deprecations).map(deprecationDocument),
  ];
}

/** declcfg.Deprecation's field order (schema, package, entries[{reference{schema, name}, message}]). */
function deprecationDocument(o: OtherDocument): Json {
  const entries = Array.isArray(o.blob.entries) ? o.blob.entries : [];
  return {
    schema: Schema.deprecations,
    package: o.package ?? '',
    entries: entries.map((e) => {
      const entry = e !== null && typeof e === 'object' && !Array.isArray(e) ? e : {};
      const ref = entry.reference;
      const reference = ref !== null && typeof ref === 'object' && !Array.isArray(ref) ? ref : {};
      return {
        reference: defined({
          schema: typeof reference.schema === 'string' ? reference.schema : '',
          name: typeof reference.name === 'string' && reference.name !== '' ? reference.name : undefined,
        }),
        message: typeof entry.message === 'string' ? entry.message : '',
      };
    }),
  };
}

function packageDocument(p: CatalogPackage): Json {
  return defined({
    schema: Schema.package,
    name: p.name,
    defaultChannel: p.defaultChannel,
    icon: p.icon,
    description: p.description === '' ? undefined : p.description,
    properties: properties(p.properties),
  });
}

function channelDocument(c: CatalogChannel): Json {
  const entries = c.entries.map((e) =>
    defined({
      name: e.name,
      replaces: e.replaces === '' ? undefined : e.replaces,
      skips: e.skips === undefined || e.skips.length === 0 ? undefined : [...e.skips],
      skipRange: e.skipRange === '' ? undefined : e.skipRange,
    }),
  );
  return defined({
    schema: Schema.channel,
    name: c.name,
    package: c.package,
    entries,
    properties: properties(c.properties),
  });
}

function bundleDocument(b: CatalogBundle): Json {
  return defined({
    schema: Schema.bundle,
    name: b.name,
    package: b.package,
    image: b.image,
    properties: properties(b.properties),
    relatedImages:
      b.relatedImages.length === 0 ? undefined : b.relatedImages.map((r) => ({ name: r.name ?? '', image: r.image })),
  });
}

function properties(list: readonly { type: string; value: Json }[] | undefined): Json | undefined {
  return list === undefined || list.length === 0 ? undefined : list.map((p) => ({ type: p.type, value: p.value }));
}

function byName<T extends { name: string }>(a: T, b: T): number {
  return compareStrings(a.name, b.name);
}

function defined(record: { [key: string]: Json | undefined }): Json {
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(record)) if (v !== undefined) out[k] = v;
  return out;
}

/** Go's encoding of a map: keys sorted at every level. */
function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: { [key: string]: Json } = {};
  for (const k of Object.keys(value).sort(compareStrings)) out[k] = sortKeys(value[k]!);
  return out;
}

/** json.Encoder output: 4-space indent, newline after each value; U+2028/U+2029 escaped as Go does. */
function encode(documents: readonly Json[]): Buffer {
  const text = documents.map((d) => `${JSON.stringify(d, null, 4)}\n`).join('');
  return Buffer.from(text.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029'), 'utf8');
}
