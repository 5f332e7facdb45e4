// The file-based catalog (FBC) as Ferry models it: operator-registry's alpha/declcfg types
// (declcfg.go: Package, Channel, ChannelEntry, Bundle, RelatedImage, Meta) with the fields the
// selection needs typed, and everything else kept as JSON so that a rebuilt catalog loses nothing.
// https://github.com/operator-framework/operator-registry/blob/master/alpha/declcfg/declcfg.go

/** `schema` of the three documents the selection reads (declcfg.SchemaPackage, …). */
export const Schema = {
  package: 'olm.package',
  channel: 'olm.channel',
  bundle: 'olm.bundle',
  deprecations: 'olm.deprecations',
} as const;

/** A JSON value as parsed (property values, icons, unknown documents). */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A bundle or package property (`property.Property`): its value is kept as parsed. */
export interface CatalogProperty {
  readonly type: string;
  readonly value: Json;
}

/** An `olm.package` document. */
export interface CatalogPackage {
  readonly name: string;
  /** `""` when the document leaves it out (declcfg writes it always). */
  readonly defaultChannel: string;
  readonly icon?: Json;
  readonly description?: string;
  readonly properties?: readonly CatalogProperty[];
}

/** One `entries[]` item of an `olm.channel`: the upgrade graph's edges into this bundle. */
export interface ChannelEntry {
  readonly name: string;
  readonly replaces?: string;
  readonly skips?: readonly string[];
  readonly skipRange?: string;
}

/** An `olm.channel` document. */
export interface CatalogChannel {
  readonly name: string;
  readonly package: string;
  readonly entries: readonly ChannelEntry[];
  readonly properties?: readonly CatalogProperty[];
}

/** One `relatedImages[]` item of a bundle (opm lists the bundle image itself with an empty name). */
export interface RelatedImage {
  readonly name?: string;
  readonly image: string;
}

/** An `olm.bundle` document. */
export interface CatalogBundle {
  readonly name: string;
  readonly package: string;
  readonly image: string;
  /** From the `olm.package` property's `version`; undefined when the bundle has none. */
  readonly version?: string;
  readonly relatedImages: readonly RelatedImage[];
  /** Every property as written (the `olm.package` one included). */
  readonly properties: readonly CatalogProperty[];
}

/**
 * A document of any other schema (`olm.deprecations`, `olm.csv.metadata`, …): kept verbatim so
 * that it survives a rebuild, with the `package` and `name` declcfg.Meta reads from it.
 */
export interface OtherDocument {
  readonly schema: string;
  readonly package?: string;
  readonly name?: string;
  readonly blob: { readonly [key: string]: Json };
}

/** A whole catalog: the documents of every file, in the order read (files sorted by path). */
export interface Catalog {
  readonly packages: readonly CatalogPackage[];
  readonly channels: readonly CatalogChannel[];
  readonly bundles: readonly CatalogBundle[];
  readonly others: readonly OtherDocument[];
}

/** The image label naming the directory that holds the catalog (opm's `ConfigsLocationLabel`). */
export const configsLabel = 'operators.operatorframework.io.index.configs.v1';
/** Where the catalog lives when the label is absent (opm's generated Dockerfile). */
export const defaultConfigsDir = '/configs';

/** Compares strings by UTF-16 code units, as Go's `<` compares bytes for ASCII names. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
