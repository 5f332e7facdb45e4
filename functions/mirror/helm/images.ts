import { parseDocument } from 'yaml';
import { formatReference, parseImageReference } from '../../oci/reference.js';
import type { ChartFiles } from './archive.js';
import type { ChartMetadata } from './chart-metadata.js';
import { evaluateImagePath, parseImagePath } from './image-paths.js';

// The images a chart uses, found without rendering it (Ferry runs no template engine): the
// `artifacthub.io/images` annotation, image references in values.yaml, literal `image:` values in
// templates, and the set's `imagePaths`. Each keeps where it was found, for the plan.

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

  const listed = meta.annotations[artifactHubImages];
  if (listed !== undefined) {
    const where = `Chart.yaml annotations.${artifactHubImages}`;
    const entries = readYaml(listed);
    if (!Array.isArray(entries)) dropped.push({ text: listed.slice(0, 200), foundIn: where, why: 'not a YAML list' });
    else
      for (const entry of entries)
        if (isRecord(entry) && typeof entry.image === 'string')
          add(entry.image, `${where}[${String(entry.name ?? '')}]`);
  }

  const values = files.valuesYaml === undefined ? undefined : readYaml(files.valuesYaml.toString('utf8'));
  walkValues(values, [], meta.appVersion, add);

  for (const [path, bytes] of files.templates) {
    const lines = bytes.toString('utf8').split('\n');
    lines.forEach((line, i) => {
      const m = /^\s*(?:-\s+)?image:\s*(\S.*?)\s*$/.exec(line);
      if (m === null || m[1]!.includes('{{') || m[1]!.startsWith('#')) return;
      add(unquote(m[1]!.replace(/\s+#.*$/, '')), `${path}:${i + 1}`);
    });
  }

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
