import semver from 'semver';
import { channelGraph } from './channel-graph.js';
import { CatalogError } from './errors.js';
import { type CatalogFilter, parseCatalogFilter, type PackageFilter, versionRange } from './filter.js';
import {
  type Catalog,
  type CatalogBundle,
  type CatalogChannel,
  type CatalogPackage,
  compareStrings,
  type OtherDocument,
  Schema,
} from './model.js';

// oc-mirror v2's operator selection, ported from the filter it calls:
// github.com/openshift/oc-mirror internal/pkg/operator/filtered_collector.go (isFullCatalog: `full`
// without packages copies the catalog as it is, no rebuild) and catalog_handler.go filterCatalog →
// github.com/sherine-k/catalog-filter (commit 2d0c61b; oc-mirror requires v0.0.5) pkg/filter/mirror-config/v1alpha1/mirror-filter.go
// FilterCatalog. What that code does (and oc-mirror's docs/features/filtering.md says):
// - packages listed: only those packages, their listed channels (all channels when none listed),
//   and the documents of other schemas that belong to them or to no package;
// - each remaining channel: `full` → every entry; a range (the channel's, else the package's) →
//   the entries in range along the upgrade graph (channel-graph.ts); otherwise the channel's head.
//   So with no packages, or a package without channels, oc-mirror takes the head of EVERY channel.
//   Ferry's contract (issue 10, pinned) is the default channel's head: `heads: 'default-channel'`,
//   the default; `heads: 'every-channel'` is oc-mirror's. Listing channels selects each one's head;
// - a range that empties the default channel is an error, an emptied other channel is dropped;
// - the default channel: the package's `defaultChannel` when set (it must be selected); otherwise
//   the catalog's, which must still be selected, else the error oc-mirror gives ("the default
//   channel was filtered out, a new default channel must be configured").
// Ferry also refuses a listed package or channel the catalog does not have (oc-mirror selects
// nothing for it, silently).

/** Options beside the filter. */
export interface SelectOptions {
  /** Heads of the default channel only (Ferry's contract, the default) or of every channel (oc-mirror v2). */
  readonly heads?: 'every-channel' | 'default-channel';
}

/** The selection: the filtered catalog, its bundles (sorted by package, name), and whether it is the whole catalog. */
export interface Selection {
  readonly catalog: Catalog;
  readonly bundles: readonly CatalogBundle[];
  /** `full: true` without packages: the catalog is mirrored as it is, not rebuilt. */
  readonly whole: boolean;
}

/** Selects from `catalog` what oc-mirror v2 would for `filter` (validated with parseCatalogFilter). */
export function selectCatalog(catalog: Catalog, filterInput: CatalogFilter, options: SelectOptions = {}): Selection {
  const filter = parseCatalogFilter(filterInput);
  const configs = new Map((filter.packages ?? []).map((p) => [p.name, p]));
  const full = filter.full === true;
  if (full && configs.size === 0) return { catalog, bundles: sortBundles(catalog.bundles), whole: true };

  let working = configs.size === 0 ? catalog : keepPackages(catalog, configs);
  if (options.heads !== 'every-channel' && !full) working = onlyDefaultChannels(working, configs);
  const versions = bundleVersions(working.bundles);
  const channelNames = namesByPackage(working.channels);
  const packages = working.packages.map((p) => withDefaultChannel(p, configs.get(p.name), channelNames.get(p.name)));

  const keep = new Map<string, Set<string>>();
  const channels: CatalogChannel[] = [];
  for (const ch of working.channels) {
    const config = configs.get(ch.package);
    const range = versionRange(config?.channels?.find((c) => c.name === ch.name) ?? {}) ?? versionRange(config ?? {});
    const kept = keep.get(ch.package) ?? new Set<string>();
    keep.set(ch.package, kept);
    if (full) {
      ch.entries.forEach((e) => kept.add(e.name));
      channels.push(ch);
    } else if (range !== undefined) {
      const inRange = channelGraph(ch).inRange(range, versions.get(ch.package) ?? new Map());
      if (inRange.size === 0) {
        // Compared with the catalog's default channel, not an override: catalog-filter's index
        // keeps the packages as they were before setDefaultChannel.
        const isDefault = working.packages.find((p) => p.name === ch.package)?.defaultChannel === ch.name;
        if (isDefault) fail(`${ch.package}/${ch.name}`, `version range "${range}" results in an empty default channel`);
        continue;
      }
      inRange.forEach((name) => kept.add(name));
      channels.push({ ...ch, entries: ch.entries.filter((e) => inRange.has(e.name)) });
    } else {
      const head = channelGraph(ch).head;
      kept.add(head);
      channels.push({ ...ch, entries: ch.entries.filter((e) => e.name === head) });
    }
  }
  const bundles =
    keep.size === 0 ? [...working.bundles] : working.bundles.filter((b) => keep.get(b.package)?.has(b.name) === true);
  const others = working.others.map((o) => filterDeprecations(o, keep, channelNames));
  return { catalog: { packages, channels, bundles, others }, bundles: sortBundles(bundles), whole: false };
}

function keepPackages(catalog: Catalog, configs: ReadonlyMap<string, PackageFilter>): Catalog {
  for (const config of configs.values()) {
    if (!catalog.packages.some((p) => p.name === config.name)) fail(config.name, 'package not found in the catalog');
    for (const ch of config.channels ?? []) {
      if (!catalog.channels.some((c) => c.package === config.name && c.name === ch.name)) {
        fail(`${config.name}/${ch.name}`, 'channel not found in the catalog');
      }
    }
  }
  return {
    packages: catalog.packages.filter((p) => configs.has(p.name)),
    channels: catalog.channels.filter((c) => {
      const listed = configs.get(c.package)?.channels;
      return (
        configs.has(c.package) && (listed === undefined || listed.length === 0 || listed.some((l) => l.name === c.name))
      );
    }),
    bundles: catalog.bundles.filter((b) => configs.has(b.package)),
    others: catalog.others.filter((o) => o.package === undefined || o.package === '' || configs.has(o.package)),
  };
}

/** Ferry's contract: a package without listed channels keeps only its default channel. */
function onlyDefaultChannels(catalog: Catalog, configs: ReadonlyMap<string, PackageFilter>): Catalog {
  const defaults = new Map(catalog.packages.map((p) => [p.name, p.defaultChannel]));
  const channels = catalog.channels.filter(
    (c) => (configs.get(c.package)?.channels?.length ?? 0) > 0 || defaults.get(c.package) === c.name,
  );
  return { ...catalog, channels };
}

/** Bundle versions per package; as catalog-filter's index, every bundle needs a strict semver version. */
function bundleVersions(bundles: readonly CatalogBundle[]): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  for (const b of bundles) {
    if (b.version === undefined)
      throw new CatalogError('CATALOG_INVALID', `${b.package}/${b.name}`, 'bundle has no olm.package property');
    if (b.version.startsWith('v') || semver.valid(b.version) === null) {
      throw new CatalogError(
        'CATALOG_INVALID',
        `${b.package}/${b.name}`,
        `version "${b.version}" is not strict semver`,
      );
    }
    const map = out.get(b.package) ?? new Map<string, string>();
    out.set(b.package, map.set(b.name, b.version));
  }
  return out;
}

function namesByPackage(channels: readonly CatalogChannel[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const c of channels) out.set(c.package, (out.get(c.package) ?? new Set()).add(c.name));
  return out;
}

/** catalog-filter's setDefaultChannel, for the packages the filter lists. */
function withDefaultChannel(
  pkg: CatalogPackage,
  config: PackageFilter | undefined,
  channels = new Set<string>(),
): CatalogPackage {
  if (config === undefined || (pkg.defaultChannel === '' && config.defaultChannel === undefined)) return pkg;
  if (config.defaultChannel !== undefined) {
    if (!channels.has(config.defaultChannel)) {
      fail(
        pkg.name,
        `specified default channel override "${config.defaultChannel}" does not exist in the filtered output`,
      );
    }
    return { ...pkg, defaultChannel: config.defaultChannel };
  }
  if (!channels.has(pkg.defaultChannel)) {
    fail(
      pkg.name,
      `the default channel "${pkg.defaultChannel}" was filtered out, a new default channel must be configured for this package`,
    );
  }
  return pkg;
}

/** catalog-filter's filterDeprecations: entries about bundles or channels no longer there are dropped. */
function filterDeprecations(
  doc: OtherDocument,
  keep: ReadonlyMap<string, Set<string>>,
  channels: ReadonlyMap<string, Set<string>>,
): OtherDocument {
  const entries = doc.blob.entries;
  if (doc.schema !== Schema.deprecations || doc.package === undefined || !Array.isArray(entries)) return doc;
  const kept = entries.filter((e) => {
    const ref = e !== null && typeof e === 'object' && !Array.isArray(e) ? e.reference : undefined;
    if (ref === null || typeof ref !== 'object' || Array.isArray(ref) || typeof ref.name !== 'string') return true;
    if (ref.schema === Schema.bundle) return keep.get(doc.package!)?.has(ref.name) !== false;
    if (ref.schema === Schema.channel) return channels.get(doc.package!)?.has(ref.name) !== false;
    return true;
  });
  return { ...doc, blob: { ...doc.blob, entries: kept } };
}

function sortBundles(bundles: readonly CatalogBundle[]): CatalogBundle[] {
  return [...bundles].sort((a, b) => compareStrings(a.package, b.package) || compareStrings(a.name, b.name));
}

function fail(where: string, why: string): never {
  throw new CatalogError('CATALOG_FILTER_INVALID', where, why);
}
