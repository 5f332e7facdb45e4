import semver from 'semver';
import { z } from 'zod';
import { CatalogError } from './errors.js';

// The `mirror.operators[]` selection fields of oc-mirror v2's ImageSetConfiguration
// (internal/pkg/api/v2alpha1/type_config.go Operator, type_config_include.go IncludePackage,
// IncludeChannel, IncludeBundle) and the version ranges oc-mirror builds from them
// (internal/pkg/operator/catalog_handler.go filterPackage: ">=" + min, then " <=" + max).

const channelFilterSchema = z.strictObject({
  name: z.string().min(1),
  minVersion: z.string().min(1).optional(),
  maxVersion: z.string().min(1).optional(),
});
const packageFilterSchema = z.strictObject({
  name: z.string().min(1),
  defaultChannel: z.string().min(1).optional(),
  minVersion: z.string().min(1).optional(),
  maxVersion: z.string().min(1).optional(),
  channels: z.array(channelFilterSchema).max(1000).optional(),
});

/** What to select from one catalog: `full` and `packages` as in an ImageSetConfiguration. */
export const catalogFilterSchema = z.strictObject({
  full: z.boolean().optional(),
  packages: z.array(packageFilterSchema).max(10_000).optional(),
});
export type CatalogFilter = z.infer<typeof catalogFilterSchema>;
export type PackageFilter = z.infer<typeof packageFilterSchema>;
export type ChannelFilter = z.infer<typeof channelFilterSchema>;

/** oc-mirror's range: `>=min`, ` <=max`, or both; undefined when neither is set. */
export function versionRange(bounds: { minVersion?: string; maxVersion?: string }): string | undefined {
  if (bounds.minVersion === undefined && bounds.maxVersion === undefined) return undefined;
  let range = '';
  if (bounds.minVersion !== undefined) range = `>=${bounds.minVersion}`;
  if (bounds.maxVersion !== undefined) range += ` <=${bounds.maxVersion}`;
  return range.trim();
}

/**
 * Checks a filter as oc-mirror does before filtering (catalog-filter's FilterConfiguration.Validate
 * and the `full` checks of mirror-filter.go FilterCatalog): package and channel ranges exclude each
 * other, `full` excludes ranges, bounds must be semver. Returns the parsed filter.
 */
export function parseCatalogFilter(value: unknown): CatalogFilter {
  const parsed = catalogFilterSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CatalogError('CATALOG_FILTER_INVALID', issue.path.join('.'), issue.message);
  }
  const filter = parsed.data;
  (filter.packages ?? []).forEach((pkg, i) => {
    const where = `packages[${i}] (${pkg.name})`;
    const pkgRange = checkRange(where, pkg);
    if (filter.full === true && pkgRange !== undefined)
      fail(where, 'full: true cannot be mixed with minVersion/maxVersion');
    (pkg.channels ?? []).forEach((ch, j) => {
      const chWhere = `${where}.channels[${j}] (${ch.name})`;
      const chRange = checkRange(chWhere, ch);
      if (chRange !== undefined && pkgRange !== undefined) {
        fail(chWhere, 'package and channel minVersion/maxVersion are exclusive');
      }
      if (filter.full === true && chRange !== undefined)
        fail(chWhere, 'full: true cannot be mixed with minVersion/maxVersion');
    });
  });
  return filter;
}

function checkRange(where: string, bounds: { minVersion?: string; maxVersion?: string }): string | undefined {
  for (const v of [bounds.minVersion, bounds.maxVersion]) {
    if (v !== undefined && semver.valid(v) === null) fail(where, `"${v}" is not a semantic version`);
  }
  return versionRange(bounds);
}

function fail(where: string, why: string): never {
  throw new CatalogError('CATALOG_FILTER_INVALID', where, why);
}
