import { z } from 'zod';
import { splitDocuments } from './documents.js';
import { CatalogError } from './errors.js';
import {
  type Catalog,
  type CatalogBundle,
  type CatalogChannel,
  type CatalogPackage,
  type CatalogProperty,
  compareStrings,
  type OtherDocument,
  Schema,
} from './model.js';

/** Bounds on what a catalog may make large (the Red Hat index is ~1 GB of JSON, ~100k documents). */
export interface CatalogLimits {
  readonly maxFiles: number;
  readonly maxFileBytes: number;
  readonly maxTotalBytes: number;
  readonly maxDocuments: number;
}

export const defaultCatalogLimits: CatalogLimits = {
  maxFiles: 50_000,
  // V8 strings stop short of 512 MiB: a file is decoded as one string.
  maxFileBytes: 256 * 1024 * 1024,
  maxTotalBytes: 2 * 1024 * 1024 * 1024,
  maxDocuments: 1_000_000,
};

/** opm's ignore file (load.go indexIgnoreFilename); its patterns are not applied, the file itself is skipped. */
const indexIgnore = '.indexignore';

const propertySchema = z.object({ type: z.string(), value: z.json() });
const propertiesSchema = z.array(propertySchema).optional();
const packageSchema = z.object({
  name: z.string().min(1),
  defaultChannel: z.string().default(''),
  icon: z.json().optional(),
  description: z.string().optional(),
  properties: propertiesSchema,
});
const entrySchema = z.object({
  name: z.string().min(1),
  replaces: z.string().optional(),
  skips: z.array(z.string()).optional(),
  skipRange: z.string().optional(),
});
const channelSchema = z.object({
  name: z.string().min(1),
  package: z.string().min(1),
  entries: z.array(entrySchema).nullable().default([]),
  properties: propertiesSchema,
});
const bundleSchema = z.object({
  name: z.string().min(1),
  package: z.string().min(1),
  image: z.string().default(''),
  properties: z.array(propertySchema).nullable().default([]),
  relatedImages: z
    .array(z.object({ name: z.string().default(''), image: z.string() }))
    .nullable()
    .default([]),
});
const metaSchema = z.record(z.string(), z.json());
const packagePropertySchema = z.object({ packageName: z.string().optional(), version: z.string() });

/**
 * Parses a catalog directory's files (path relative to the configs directory → bytes), in path
 * order, as opm's declcfg.LoadFS reads them: every file but `.indexignore`, JSON streams or YAML
 * documents, `schema` required. Errors are {@link CatalogError}s naming the file and document.
 */
export function parseCatalog(
  files: ReadonlyMap<string, Buffer>,
  limits: CatalogLimits = defaultCatalogLimits,
): Catalog {
  if (files.size > limits.maxFiles) throw new CatalogError('CATALOG_LIMIT', '', `more than ${limits.maxFiles} files`);
  const catalog = {
    packages: [] as CatalogPackage[],
    channels: [] as CatalogChannel[],
    bundles: [] as CatalogBundle[],
    others: [] as OtherDocument[],
  };
  let total = 0;
  let documents = 0;
  for (const path of [...files.keys()].sort(compareStrings)) {
    if (path.split('/').pop() === indexIgnore) continue;
    const bytes = files.get(path)!;
    total += bytes.length;
    if (bytes.length > limits.maxFileBytes)
      throw new CatalogError('CATALOG_LIMIT', path, `larger than ${limits.maxFileBytes} bytes`);
    if (total > limits.maxTotalBytes)
      throw new CatalogError('CATALOG_LIMIT', path, `catalog larger than ${limits.maxTotalBytes} bytes`);
    for (const doc of splitDocuments(path, bytes.toString('utf8'), limits.maxDocuments - documents)) {
      documents++;
      addDocument(catalog, doc.where, doc.value);
    }
  }
  return catalog;
}

function addDocument(
  catalog: {
    packages: CatalogPackage[];
    channels: CatalogChannel[];
    bundles: CatalogBundle[];
    others: OtherDocument[];
  },
  where: string,
  value: unknown,
): void {
  const blob = check(metaSchema, value, where);
  const schema = blob.schema;
  if (typeof schema !== 'string' || schema === '')
    throw new CatalogError('CATALOG_INVALID', where, 'missing root schema field');
  switch (schema) {
    case Schema.package:
      catalog.packages.push(withoutUndefined(check(packageSchema, value, where)));
      return;
    case Schema.channel: {
      const ch = check(channelSchema, value, where);
      catalog.channels.push(withoutUndefined({ ...ch, entries: (ch.entries ?? []).map(withoutUndefined) }));
      return;
    }
    case Schema.bundle:
      catalog.bundles.push(toBundle(check(bundleSchema, value, where), where));
      return;
    default:
      catalog.others.push(
        withoutUndefined({
          schema,
          package: typeof blob.package === 'string' ? blob.package : undefined,
          name: typeof blob.name === 'string' ? blob.name : undefined,
          blob,
        }),
      );
  }
}

function toBundle(b: z.infer<typeof bundleSchema>, where: string): CatalogBundle {
  const properties: CatalogProperty[] = b.properties ?? [];
  const packageProperty = properties.find((p) => p.type === Schema.package);
  const version =
    packageProperty === undefined
      ? undefined
      : check(packagePropertySchema, packageProperty.value, `${where} olm.package property`).version;
  return withoutUndefined({
    name: b.name,
    package: b.package,
    image: b.image,
    version,
    relatedImages: (b.relatedImages ?? []).map((r) =>
      r.name === '' ? { image: r.image } : { name: r.name, image: r.image },
    ),
    properties,
  });
}

function check<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.');
  throw new CatalogError('CATALOG_INVALID', where, `${field === '' ? '' : `${field}: `}${issue.message}`);
}

/** Drops keys whose value is undefined, so that models compare equal whether a field was absent or not. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
