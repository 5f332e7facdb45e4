import { parseDocument } from 'yaml';
import type { z } from 'zod';
import type { BlockedImage } from './blocked.js';
import { documentSchema, imageSetLimits } from './document-schema.js';
import { ImageSetError } from './errors.js';
import type { TagPolicy } from './policy.js';
import type { OperatorCatalogSpec } from '../operators/catalog-spec.js';
import type { PlatformSelection } from '../release/platform.js';
import type { HelmSelection } from '../helm/selection.js';

export { apiVersion, imageSetLimits, kind } from './document-schema.js';
export { ImageSetError } from './errors.js';

/** One `mirror.additionalImages` entry: oc-mirror's `AdditionalImage` (name, platforms). */
export interface AdditionalImage {
  /** A reference by tag or digest. */
  name: string;
  /** `os/arch` strings, from oc-mirror's `[{os, architecture}]`; absent: every platform. */
  platforms?: string[];
}

/** One `mirror.repositories` entry (Ferry's own section): the tags of a repository chosen by a policy. */
export interface RepositoryPolicy {
  /** A repository name, no tag or digest (`docker.io/library/nginx`). */
  name: string;
  tags: TagPolicy;
  /** `os/arch[/variant]` strings, as `--platform`; absent: every platform. */
  platforms?: string[];
}

/** What an image-set document selects (docs/image-sets.md "Types shared by the slices"). */
export interface ImageSet {
  additionalImages: AdditionalImage[];
  blockedImages: BlockedImage[];
  repositories: RepositoryPolicy[];
  /** `mirror.platform`: OpenShift release payloads (issue 10). */
  platform?: PlatformSelection;
  /** `mirror.operators`: operator catalogs (issue 10); absent when the document names none. */
  operators?: OperatorCatalogSpec[];
  /** `mirror.helm`: chart repositories and (CLI only) local charts (issue 10). */
  helm?: HelmSelection;
  /** `archiveSize`: the part size of a mirror-to-disk archive, in GiB (issue 12). */
  archiveSize?: number;
}

/** Sections oc-mirror defines that Ferry does not implement yet: accepted, ignored, one warning each. */
const ignoredTopLevel: Readonly<Record<string, string>> = {};
const ignoredInMirror: Readonly<Record<string, string>> = {
  samples: 'samples are not implemented (by oc-mirror either)',
};

/** Who reads the document. */
export interface ParseOptions {
  /**
   * `mirror.helm.local` (files on this machine) is read: the CLI's own documents only. Elsewhere
   * (the API: a document may come from a hostile caller) a `local` entry is refused at its path.
   */
  readonly localCharts?: boolean;
}

/** A parsed document and the warnings for the oc-mirror sections it ignored (one per section). */
export interface ParsedImageSet {
  set: ImageSet;
  warnings: string[];
}

/**
 * Parses and validates an image-set document: oc-mirror's `ImageSetConfiguration`
 * (`mirror.openshift.io/v2alpha1`) with Ferry's `mirror.repositories` (issue 9).
 *
 * `input` is YAML or JSON text (a string; `format` picks the parser, YAML by default, which reads
 * JSON too) or an already-decoded value (an API body's `config`). oc-mirror sections Ferry does not
 * implement (`mirror.samples`) are dropped with one
 * warning each; every other unknown field, a bad reference, pattern, range, count or platform, or
 * a limit of {@link imageSetLimits} exceeded throws an {@link ImageSetError} whose `path` names the
 * field (`mirror.repositories[2].tags.semvr`).
 */
export function parseImageSet(
  input: string | unknown,
  format?: 'yaml' | 'json',
  options: ParseOptions = {},
): ParsedImageSet {
  const value = typeof input === 'string' ? decode(input, format ?? 'yaml') : input;
  if (typeof input !== 'string') checkSize(value);
  const warnings: string[] = [];
  const parsed = documentSchema.safeParse(dropIgnored(value, warnings));
  if (!parsed.success) {
    // An unknown field is usually the typo behind a missing one (`nam` for `name`): name it first.
    const { issues } = parsed.error;
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
    const keys = issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [];
    const path = formatPath([...issue.path, ...keys]);
    throw new ImageSetError(path, issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message);
  }
  const { mirror } = parsed.data;
  if (mirror.helm !== undefined && mirror.helm.local.length > 0 && options.localCharts !== true)
    throw new ImageSetError('mirror.helm.local', 'local charts are read by the CLI only (name a chart repository)');
  return {
    set: {
      additionalImages: mirror.additionalImages.map(({ name, platforms }) => ({
        name,
        ...(platforms === undefined ? {} : { platforms }),
      })),
      blockedImages: mirror.blockedImages.map(({ name }) => ({ name })),
      repositories: mirror.repositories.map(({ name, tags, platforms }) => ({
        name,
        tags: tags ?? {},
        ...(platforms === undefined ? {} : { platforms }),
      })),
      ...(mirror.platform === undefined ? {} : { platform: toPlatform(mirror.platform) }),
      ...(mirror.operators.length === 0 ? {} : { operators: mirror.operators.map(toOperatorCatalog) }),
      ...(mirror.helm === undefined ? {} : { helm: mirror.helm }),
      ...(parsed.data.archiveSize === undefined ? {} : { archiveSize: parsed.data.archiveSize }),
    },
    warnings,
  };
}

function toPlatform(platform: NonNullable<z.infer<typeof documentSchema>['mirror']['platform']>): PlatformSelection {
  const architectures = [...new Set(platform.architectures)];
  return {
    ...(platform.release === undefined ? {} : { release: platform.release }),
    channels: platform.channels.map(({ name, minVersion, maxVersion }) => ({
      name,
      ...(minVersion === undefined ? {} : { minVersion }),
      ...(maxVersion === undefined ? {} : { maxVersion }),
    })),
    architectures: architectures.length === 0 ? ['amd64'] : architectures,
  };
}

type OperatorInput = z.infer<typeof documentSchema>['mirror']['operators'][number];

/** `mirror.operators[]` as selection reads it: optional fields only when set, `docker://` dropped. */
function toOperatorCatalog(op: OperatorInput): OperatorCatalogSpec {
  const bounds = (b: { minVersion?: string | undefined; maxVersion?: string | undefined }) => ({
    ...(b.minVersion === undefined ? {} : { minVersion: b.minVersion }),
    ...(b.maxVersion === undefined ? {} : { maxVersion: b.maxVersion }),
  });
  return {
    catalog: op.catalog.replace(/^docker:\/\//, ''),
    ...(op.targetCatalog === undefined ? {} : { targetCatalog: op.targetCatalog }),
    ...(op.targetTag === undefined ? {} : { targetTag: op.targetTag }),
    ...(op.full === undefined ? {} : { full: op.full }),
    ...(op.packages.length === 0
      ? {}
      : {
          packages: op.packages.map((p) => ({
            name: p.name,
            ...(p.channels.length === 0 ? {} : { channels: p.channels.map((c) => ({ name: c.name, ...bounds(c) })) }),
            ...bounds(p),
            ...(p.defaultChannel === undefined ? {} : { defaultChannel: p.defaultChannel }),
          })),
        }),
  };
}

function decode(text: string, format: 'yaml' | 'json'): unknown {
  if (Buffer.byteLength(text, 'utf8') > imageSetLimits.documentBytes) {
    throw new ImageSetError('', `document larger than ${imageSetLimits.documentBytes} bytes`);
  }
  if (format === 'json') {
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ImageSetError('', `not JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, merge: false, schema: 'core', prettyErrors: false });
  const error = doc.errors[0];
  if (error !== undefined) throw new ImageSetError('', `not YAML: ${error.message}`, { cause: error });
  try {
    return doc.toJS({ maxAliasCount: imageSetLimits.yamlAliases }) as unknown;
  } catch (err) {
    throw new ImageSetError('', `not YAML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function checkSize(value: unknown): void {
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch (err) {
    throw new ImageSetError('', 'not a JSON value', { cause: err });
  }
  if (size > imageSetLimits.documentBytes) {
    throw new ImageSetError('', `document larger than ${imageSetLimits.documentBytes} bytes`);
  }
}

/** A shallow copy without the sections Ferry ignores, one warning for each present. */
function dropIgnored(value: unknown, warnings: string[]): unknown {
  if (!isRecord(value)) return value;
  const top = omit(value, ignoredTopLevel, '', warnings);
  if (isRecord(top.mirror)) top.mirror = omit(top.mirror, ignoredInMirror, 'mirror.', warnings);
  return top;
}

function omit(
  record: Record<string, unknown>,
  ignored: Readonly<Record<string, string>>,
  prefix: string,
  warnings: string[],
): Record<string, unknown> {
  const kept = Object.entries(record).filter(([key]) => {
    const why = Object.hasOwn(ignored, key) ? ignored[key] : undefined;
    if (why !== undefined) warnings.push(`${prefix}${key}: ignored (${why})`);
    return why === undefined;
  });
  // fromEntries defines own properties: a `__proto__` key stays a key (and an unknown field), not a prototype.
  return Object.fromEntries(kept);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `["mirror", "repositories", 2, "tags", "semvr"]` → `mirror.repositories[2].tags.semvr`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
