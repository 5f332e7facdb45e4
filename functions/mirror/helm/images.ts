import { parseDocument } from 'yaml';
import { formatReference, parseImageReference } from '../../oci/reference.js';
import type { ChartFiles } from './archive.js';
import { type ChartDependency, type ChartMetadata, readChartMetadata } from './chart-metadata.js';
import { evaluateImagePath, parseImagePath } from './image-paths.js';

// The images a chart uses, found without rendering it (Ferry runs no template engine): the
// `artifacthub.io/images` annotation, image references in values.yaml, literal `image:` values in
// templates, and the set's `imagePaths`; then the same in every subchart a default install
// enables, with the values the parent gives it. Each keeps where it was found, for the plan.

/** The Artifact Hub annotation listing a chart's images (`- name: x\n  image: repo:tag`). */
export const artifactHubImages = 'artifacthub.io/images';

/** An image a chart names: the normalised reference and every place it was found. */
export interface ChartImage {
  readonly reference: string;
  readonly foundIn: string[];
}

/** Something that looked like an image and did not parse as a reference (reported, not mirrored). */
export interface DroppedImage {
  readonly text: string;
  readonly foundIn: string;
  readonly why: string;
}

/** The images of one chart. */
export interface ChartImages {
  readonly images: ChartImage[];
  readonly dropped: DroppedImage[];
}

/**
 * Finds the images of a chart. In values.yaml: a mapping under a key naming an image (`image`,
 * `initImage`, …) or holding `repository` with `registry`/`tag`/`digest` is read as
 * `[registry/]repository[:tag][@digest]` (no tag nor digest: the chart's appVersion, the usual
 * template default); a string under such a key as a reference. In templates: `image:` lines
 * whose value has no template expression. Found references are parsed with Ferry's parser
 * (`nginx` → `docker.io/library/nginx:latest`), deduplicated, first place first.
 */
export function findChartImages(
  files: ChartFiles,
  meta: ChartMetadata,
  imagePaths: readonly string[] = [],
): ChartImages {
  const found = new Map<string, ChartImage>();
  const dropped: DroppedImage[] = [];
  const add = (text: string, foundIn: string): void => {
    let reference: string;
    try {
      reference = formatReference(parseImageReference(text.trim()));
    } catch (err) {
      dropped.push({ text, foundIn, why: err instanceof Error ? err.message : String(err) });
      return;
    }
    const known = found.get(reference);
    if (known === undefined) found.set(reference, { reference, foundIn: [foundIn] });
    else if (!known.foundIn.includes(foundIn)) known.foundIn.push(foundIn);
  };

  const values = files.valuesYaml === undefined ? undefined : readYaml(files.valuesYaml.toString('utf8'));
  findIn({ files, meta, values, label: '', add, drop: (d) => dropped.push(d) });
  imagePaths.forEach((template, i) => {
    const where = `imagePaths[${i}] ${template}`;
    const parts = parseImagePath(template);
    if (typeof parts === 'string') return void dropped.push({ text: template, foundIn: where, why: parts });
    const result = evaluateImagePath(parts, values);
    if ('why' in result) dropped.push({ text: template, foundIn: where, why: result.why });
    else add(result.value, where);
  });
  return { images: [...found.values()], dropped };
}

/** One chart (or subchart, `label` its path: `charts/redis/`) searched with its coalesced values. */
interface Search {
  readonly files: ChartFiles;
  readonly meta: ChartMetadata;
  readonly values: unknown;
  readonly label: string;
  readonly add: (text: string, foundIn: string) => void;
  readonly drop: (dropped: DroppedImage) => void;
}

function findIn({ files, meta, values, label, add, drop }: Search): void {
  const listed = meta.annotations[artifactHubImages];
  if (listed !== undefined) {
    const where = `${label}Chart.yaml annotations.${artifactHubImages}`;
    const entries = readYaml(listed);
    if (!Array.isArray(entries)) drop({ text: listed.slice(0, 200), foundIn: where, why: 'not a YAML list' });
    else
      for (const entry of entries)
        if (isRecord(entry) && typeof entry.image === 'string')
          add(entry.image, `${where}[${String(entry.name ?? '')}]`);
  }

  // Each subchart instance: one per dependency naming it (an alias copies it), else one under its own name.
  const instances: { files: ChartFiles; meta: ChartMetadata; key: string; label: string }[] = [];
  const vendored = new Set<string>();
  for (const sub of files.subcharts) {
    const subLabel = `${label}${sub.path}/`;
    let subMeta: ChartMetadata;
    try {
      subMeta = readChartMetadata(sub.files.chartYaml, subLabel, sub.files.requirementsYaml);
    } catch (err) {
      drop({ text: sub.path, foundIn: `${label}Chart.yaml`, why: err instanceof Error ? err.message : String(err) });
      continue;
    }
    vendored.add(subMeta.name);
    const named = meta.dependencies.filter((d) => d.name === subMeta.name);
    for (const dependency of named.length === 0 ? [undefined] : named) {
      if (dependency !== undefined && !enabled(dependency, values)) continue;
      const key = dependency?.alias ?? subMeta.name;
      instances.push({ files: sub.files, meta: subMeta, key, label: subLabel });
    }
  }
  // The parent's values for a subchart are read with the subchart (coalesced onto its own), and
  // not at all for a disabled dependency; a dependency not vendored under charts/ keeps them here.
  const skipped = new Set([
    ...instances.map((i) => i.key),
    ...meta.dependencies.filter((d) => vendored.has(d.name) || !enabled(d, values)).map((d) => d.alias ?? d.name),
  ]);
  const own = isRecord(values) ? Object.fromEntries(Object.entries(values).filter(([k]) => !skipped.has(k))) : values;
  walkValues(own, [], meta.appVersion, (text, where) => add(text, `${label}${where}`));

  for (const [path, bytes] of files.templates) {
    const lines = bytes.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^\s*(?:-\s+)?image:\s*(\S.*?)\s*$/.exec(line);
      if (m === null || m[1]!.includes('{{') || m[1]!.startsWith('#')) return;
      add(unquote(m[1]!.replace(/\s+#.*$/, '')), `${label}${path}:${i + 1}`);
    });
  }

  const global = isRecord(values) && isRecord(values.global) ? { global: values.global } : {};
  for (const instance of instances) {
    const subValues =
      instance.files.valuesYaml === undefined ? undefined : readYaml(instance.files.valuesYaml.toString('utf8'));
    const fromParent = isRecord(values) ? values[instance.key] : undefined;
    findIn({
      files: instance.files,
      meta: instance.meta,
      values: coalesce(coalesce(subValues, isRecord(fromParent) ? fromParent : {}), global),
      label: instance.label,
      add,
      drop,
    });
  }
}

/**
 * Whether a default install enables the subchart (helm's processDependencyConditions / Tags):
 * the first condition path that resolves to a boolean decides; else, with tags, enabled when any
 * tag is true under `tags:`, disabled when all that are set are false; else enabled.
 */
function enabled(dependency: ChartDependency, values: unknown): boolean {
  for (const path of (dependency.condition ?? '').split(',')) {
    const value = valueAt(values, path.trim());
    if (value === 'true' || value === 'false') return value === 'true';
  }
  const tags = isRecord(values) && isRecord(values.tags) ? values.tags : {};
  const set = dependency.tags.map((t) => tags[t]).filter((v) => v === 'true' || v === 'false');
  return set.length === 0 || set.includes('true');
}

function valueAt(values: unknown, path: string): unknown {
  if (path === '') return undefined;
  let at = values;
  for (const key of path.split('.')) at = isRecord(at) ? at[key] : undefined;
  return at;
}

/** `over` merged onto `base`, mappings recursively, `over` winning (helm's CoalesceValues, for reading images). */
function coalesce(base: unknown, over: Record<string, unknown>): unknown {
  if (!isRecord(base)) return Object.keys(over).length === 0 ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = isRecord(v) && isRecord(out[k]) ? coalesce(out[k], v) : v;
  return out;
}

const imageKey = /image$/i;

function walkValues(
  value: unknown,
  path: readonly (string | number)[],
  appVersion: string | undefined,
  add: (text: string, where: string) => void,
): void {
  const where = (): string =>
    `values.yaml ${path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('') || '.'}`;
  const key = path[path.length - 1];
  if (typeof value === 'string') {
    if (typeof key === 'string' && imageKey.test(key) && value.trim() !== '' && !value.includes('{{'))
      add(value, where());
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => walkValues(v, [...path, i], appVersion, add));
  if (!isRecord(value)) return;
  const scalar = (k: string): string => {
    const v = value[k];
    return typeof v === 'string' || typeof v === 'number' ? String(v).trim() : '';
  };
  const repository = scalar('repository');
  const named = typeof key === 'string' && imageKey.test(key);
  const hasParts = scalar('registry') !== '' || scalar('tag') !== '' || scalar('digest') !== '';
  if (repository !== '' && !repository.includes('{{') && (named || hasParts)) {
    const registry = scalar('registry');
    const tag = scalar('tag') || (scalar('digest') === '' ? (appVersion ?? '') : '');
    const digest = scalar('digest');
    add(
      `${registry === '' ? '' : `${registry}/`}${repository}${tag === '' ? '' : `:${tag}`}${digest === '' ? '' : `@${digest}`}`,
      where(),
    );
    return;
  }
  for (const [k, v] of Object.entries(value)) walkValues(v, [...path, k], appVersion, add);
}

/** YAML with every scalar a string (as the template engine would print it); undefined when unreadable. */
function readYaml(text: string): unknown {
  const doc = parseDocument(text, { schema: 'failsafe', merge: false, prettyErrors: false });
  if (doc.errors.length > 0) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch {
    return undefined;
  }
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
