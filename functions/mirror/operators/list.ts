import semver from 'semver';
import { CatalogError } from './errors.js';
import { type Catalog, type CatalogChannel, compareStrings } from './model.js';

// What `oc-mirror list operators` prints, as a pure formatter over a parsed catalog:
// github.com/openshift/oc-mirror internal/pkg/cli/list/operators.go (listOperators,
// listChannels, listBundles, getDisplayName), written through text/tabwriter with
// minwidth 0, tabwidth 4, padding 2, pad ' ': each column but the last padded to its widest
// cell plus two spaces. Heads follow operator-registry's model.Channel.Head (replaces and skips).

/** `--catalog`: NAME, DISPLAY NAME, DEFAULT CHANNEL of every package, by name. */
export function formatPackages(catalog: Catalog): string {
  const rows = [...catalog.packages]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((p) => [p.name, displayName(catalog, p.name), p.defaultChannel]);
  return table([['NAME', 'DISPLAY NAME', 'DEFAULT CHANNEL'], ...rows]);
}

/** `--catalog --package`: the package's line, a blank line, then PACKAGE, CHANNEL, HEAD of each channel by name. */
export function formatPackage(catalog: Catalog, name: string): string {
  const pkg = catalog.packages.find((p) => p.name === name);
  if (pkg === undefined)
    throw new CatalogError('CATALOG_FILTER_INVALID', name, `operator "${name}" not found in catalog`);
  const channels = channelsOf(catalog, name);
  let out = '';
  if (channels.some((c) => c.name === pkg.defaultChannel)) {
    out = `${table([
      ['NAME', 'DISPLAY NAME', 'DEFAULT CHANNEL'],
      [pkg.name, displayName(catalog, name), pkg.defaultChannel],
    ])}\n`;
  }
  return out + table([['PACKAGE', 'CHANNEL', 'HEAD'], ...channels.map((c) => [name, c.name, headOf(c)])]);
}

/** `--catalog --package --channel`: VERSIONS of the channel's bundles, by bundle name. */
export function formatChannelVersions(catalog: Catalog, name: string, channel: string): string {
  const ch = channelsOf(catalog, name).find((c) => c.name === channel);
  if (ch === undefined)
    throw new CatalogError(
      'CATALOG_FILTER_INVALID',
      `${name}/${channel}`,
      `channel "${channel}" not found for operator "${name}"`,
    );
  const versions = new Map(catalog.bundles.filter((b) => b.package === name).map((b) => [b.name, b.version ?? '']));
  const lines = ch.entries
    .map((e) => e.name)
    .sort(compareStrings)
    .map((n) => versions.get(n) ?? '');
  return ['VERSIONS', ...lines].map((l) => `${l}\n`).join('');
}

function channelsOf(catalog: Catalog, name: string): CatalogChannel[] {
  return catalog.channels.filter((c) => c.package === name).sort((a, b) => compareStrings(a.name, b.name));
}

/** model.Channel.Head: the one entry nothing replaces or skips, else the error oc-mirror prints. */
function headOf(channel: CatalogChannel): string {
  const incoming = new Set<string>();
  for (const e of channel.entries) {
    if (e.replaces !== undefined && e.replaces !== '') incoming.add(e.replaces);
    e.skips?.forEach((s) => incoming.add(s));
  }
  const heads = channel.entries.filter((e) => !incoming.has(e.name)).map((e) => e.name);
  if (heads.length === 0) return 'ERROR: no channel head found in graph';
  if (heads.length > 1) return `ERROR: multiple channel heads found in graph: ${heads.sort(compareStrings).join(', ')}`;
  return heads[0]!;
}

/** getDisplayName: `olm.csv.metadata`'s displayName of the package's highest-version bundle in a channel. */
function displayName(catalog: Catalog, name: string): string {
  const inChannels = new Set(channelsOf(catalog, name).flatMap((c) => c.entries.map((e) => e.name)));
  let highest: { version: string; value: unknown } | undefined;
  for (const b of catalog.bundles) {
    if (b.package !== name || !inChannels.has(b.name) || b.version === undefined || semver.valid(b.version) === null)
      continue;
    if (highest === undefined || semver.gt(b.version, highest.version)) {
      highest = { version: b.version, value: b.properties.find((p) => p.type === 'olm.csv.metadata')?.value };
    }
  }
  const value = highest?.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return '';
  const displayName = 'displayName' in value ? value.displayName : undefined;
  return typeof displayName === 'string' ? displayName : '';
}

/** text/tabwriter(0, 4, 2, ' ', 0) over rows of the same length. */
function table(rows: readonly (readonly string[])[]): string {
  const columns = rows[0]!.length;
  const widths = Array.from({ length: columns - 1 }, (_, j) => Math.max(...rows.map((r) => [...r[j]!].length)) + 2);
  return rows
    .map(
      (r) =>
        `${r.map((cell, j) => (j < columns - 1 ? cell.padEnd(widths[j]! + cell.length - [...cell].length) : cell)).join('')}\n`,
    )
    .join('');
}
