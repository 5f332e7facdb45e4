import semver from 'semver';
import { parseDocument } from 'yaml';
import { goJson, sortedKeys } from '../../oci/go-json.js';
import { HelmError } from './errors.js';

// Chart.yaml as helm reads it (pkg/chart/v2 Metadata, loaded with sigs.k8s.io/yaml, Validate()
// sanitizing the free-text fields) and as `helm push` writes it into the OCI config blob:
// `json.Marshal(meta)` — the struct's field order, `omitempty` fields left out when empty, map
// keys sorted, and Go's HTML-safe string escaping (`<`, `>`, `&`, U+2028, U+2029 as \uXXXX).

/** A JSON value in the order Go writes it (objects keep insertion order). */
type Json = string | boolean | Json[] | { [key: string]: Json };

/** What Ferry uses of a chart's metadata, and the exact config blob `helm push` writes. */
export interface ChartMetadata {
  readonly name: string;
  readonly version: string;
  readonly appVersion?: string;
  readonly description?: string;
  readonly home?: string;
  readonly sources: readonly string[];
  readonly maintainers: readonly { name?: string; email?: string; url?: string }[];
  readonly annotations: Readonly<Record<string, string>>;
  /** What decides which subcharts a release installs: each dependency's name, alias, condition and tags. */
  readonly dependencies: readonly ChartDependency[];
  /** `json.Marshal(meta)`'s bytes: the OCI chart's config blob. */
  readonly configJson: Buffer;
}

/** A Chart.yaml dependency as helm's condition/tags processing reads it (pkg/chartutil/dependencies.go). */
export interface ChartDependency {
  readonly name: string;
  /** The key of the parent's values the subchart reads, when set (else `name`). */
  readonly alias?: string;
  /** Comma-separated values paths; the first that resolves to a boolean decides. */
  readonly condition?: string;
  readonly tags: readonly string[];
}

/**
 * Reads Chart.yaml bytes. Every scalar is read as the text YAML wrote (`version: 1.10` is "1.10",
 * as sigs.k8s.io/yaml converts for a string field). `name` and a semver `version` are required
 * (a missing `apiVersion` is v1), as helm's loader has it; anything else wrong is
 * `HELM_CHART_INVALID`. `requirements` is the chart's requirements.yaml, if it has one.
 */
export function readChartMetadata(bytes: Buffer, where: string, requirements?: Buffer): ChartMetadata {
  const raw = readMapping(bytes, where, 'Chart.yaml');
  // helm's loader unmarshals a (deprecated) requirements.yaml into the same metadata: its dependencies win.
  if (requirements !== undefined) {
    const extra = readMapping(requirements, where, 'requirements.yaml');
    if (Object.hasOwn(extra, 'dependencies')) raw.dependencies = extra.dependencies;
  }
  const bad = (field: string, why: string): HelmError =>
    new HelmError('HELM_CHART_INVALID', `${where}: Chart.yaml ${field}: ${why}`);
  const str = (field: string, sanitize = true): string => {
    const v = raw[field];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw bad(field, 'not a string');
    return sanitize ? sanitizeString(v) : v;
  };
  const strings = (field: string): string[] => {
    const v = raw[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad(field, 'not a list of strings');
    return v.map(sanitizeString);
  };
  // Maintainer's fields are all `omitempty`.
  const maintainers = listOf(raw.maintainers, 'maintainers', bad).map((m) => {
    const out: { name?: string; email?: string; url?: string } = {};
    for (const key of ['name', 'email', 'url'] as const) {
      const v = sanitizeString(text(m[key]));
      if (v !== '') out[key] = v;
    }
    return out;
  });
  const annotations = raw.annotations ?? {};
  if (!isRecord(annotations) || !Object.values(annotations).every((v) => typeof v === 'string'))
    throw bad('annotations', 'not a map of strings');
  const meta = {
    name: str('name'),
    home: str('home'),
    sources: strings('sources'),
    version: str('version', false),
    description: str('description'),
    keywords: strings('keywords'),
    maintainers,
    icon: str('icon'),
    // A chart without apiVersion is a Helm 2 chart: helm's loader reads it as v1.
    apiVersion: str('apiVersion', false) || 'v1',
    condition: str('condition'),
    tags: str('tags'),
    appVersion: str('appVersion'),
    deprecated: text(raw.deprecated) === 'true',
    annotations: annotations as Record<string, string>,
    kubeVersion: str('kubeVersion'),
    dependencies: listOf(raw.dependencies, 'dependencies', bad).map(dependency),
    type: str('type', false),
  };
  if (meta.name === '' || meta.name === '.' || meta.name === '..' || meta.name.includes('/'))
    throw bad('name', `"${meta.name}" is not a chart name`);
  if (semver.valid(meta.version, { loose: true }) === null && semver.coerce(meta.version) === null)
    throw bad('version', `"${meta.version}" is not a semantic version`);
  const config: Record<string, Json> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (
      Array.isArray(value)
        ? value.length > 0
        : isRecord(value)
          ? Object.keys(value).length > 0
          : value !== '' && value !== false
    )
      config[key] = key === 'annotations' ? sortedKeys(value as Record<string, string>) : (value as Json);
  }
  return {
    name: meta.name,
    version: meta.version,
    ...(meta.appVersion === '' ? {} : { appVersion: meta.appVersion }),
    ...(meta.description === '' ? {} : { description: meta.description }),
    ...(meta.home === '' ? {} : { home: meta.home }),
    sources: meta.sources,
    maintainers: meta.maintainers,
    annotations: meta.annotations,
    dependencies: meta.dependencies.map(chartDependency),
    configJson: Buffer.from(goJson(config), 'utf8'),
  };
}

function chartDependency(json: Json): ChartDependency {
  const d = json as Record<string, Json>;
  const field = (key: string): string => (typeof d[key] === 'string' ? d[key] : '');
  return {
    name: field('name'),
    ...(field('alias') === '' ? {} : { alias: field('alias') }),
    ...(field('condition') === '' ? {} : { condition: field('condition') }),
    tags: Array.isArray(d.tags) ? d.tags.filter((t): t is string => typeof t === 'string') : [],
  };
}

/** A YAML file of the chart as a mapping, every scalar a string. */
function readMapping(bytes: Buffer, where: string, file: string): Record<string, unknown> {
  const doc = parseDocument(bytes.toString('utf8'), { schema: 'failsafe', merge: false, prettyErrors: false });
  if (doc.errors[0] !== undefined)
    throw new HelmError('HELM_CHART_INVALID', `${where}: ${file} is not YAML: ${doc.errors[0].message}`);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new HelmError('HELM_CHART_INVALID', `${where}: ${file}: ${String(err)}`, { cause: err });
  }
  if (!isRecord(raw)) throw new HelmError('HELM_CHART_INVALID', `${where}: ${file} is not a mapping`);
  return raw;
}

/** pkg/chart/v2 Dependency: `name` and `repository` always written, the rest `omitempty`. */
function dependency(d: Record<string, unknown>): Json {
  const out: Record<string, Json> = { name: text(d.name) };
  if (text(d.version) !== '') out.version = text(d.version);
  out.repository = text(d.repository);
  if (text(d.condition) !== '') out.condition = text(d.condition);
  if (Array.isArray(d.tags) && d.tags.length > 0) out.tags = d.tags.map(text);
  if (text(d.enabled) === 'true') out.enabled = true;
  if (Array.isArray(d['import-values']) && d['import-values'].length > 0)
    out['import-values'] = d['import-values'].map((v) => (isRecord(v) ? (v as { [key: string]: Json }) : text(v)));
  if (text(d.alias) !== '') out.alias = text(d.alias);
  return out;
}

/** Each maintainer or dependency (null entries skipped, as helm refuses them only on lint). */
function listOf(
  value: unknown,
  field: string,
  bad: (field: string, why: string) => HelmError,
): Record<string, unknown>[] {
  if (value === undefined || value === null || value === '') return [];
  if (!Array.isArray(value)) throw bad(field, 'not a list');
  return value.filter(isRecord);
}

/** helm's sanitizeString: whitespace becomes a space, unprintable characters go. */
function sanitizeString(s: string): string {
  return s.replace(/\s/gu, ' ').replace(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/gu, '');
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
