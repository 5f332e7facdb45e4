import { z } from 'zod';
import { list, unsupported } from '../image-set/schema-parts.js';
import { parseImagePath } from './image-paths.js';
import type { HelmSelection } from './selection.js';

// `mirror.helm` of an image-set document (oc-mirror v2alpha1 `Helm`: `repositories[]{name, url,
// charts[]{name, version, imagePaths}}`, `local[]{name, path, imagePaths}`), validated as the rest
// of the document (document-schema.ts): strict objects, an unknown field refused at its path.

/** Limits on `mirror.helm` (documents are hostile input: see `imageSetLimits`). */
export const helmSectionLimits = {
  repositories: 100,
  charts: 500,
  local: 100,
  imagePaths: 20,
  textLength: 256,
  urlLength: 2048,
  pathLength: 4096,
} as const;

/** A field oc-mirror's Chart struct has where Ferry does not read it. */
const refused = unsupported;

const text = z.string().min(1).max(helmSectionLimits.textLength);

/** A chart name: one path element of a repository (it becomes `<to>/<chart>`). */
const chartName = text.regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'not a chart name (lowercase, digits, . _ -)');

const imagePaths = z
  .array(
    text.superRefine((value, ctx) => {
      const parsed = parseImagePath(value);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    }),
  )
  .max(helmSectionLimits.imagePaths)
  .optional();

/** https, or http (read only from hosts the CLI marks insecure); no other scheme, no fragment. */
const repositoryUrl = z
  .string()
  .min(1)
  .max(helmSectionLimits.urlLength)
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return void ctx.addIssue({ code: 'custom', message: 'not a URL' });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      ctx.addIssue({ code: 'custom', message: 'a chart repository URL is https (or http for insecure hosts)' });
    else if (url.hash !== '') ctx.addIssue({ code: 'custom', message: 'a chart repository URL has no #fragment' });
  });

const chart = z.strictObject({
  name: chartName,
  version: text,
  imagePaths,
  path: refused('a chart by path belongs in mirror.helm.local'),
});

const repository = z.strictObject({
  name: text,
  url: repositoryUrl,
  charts: list(chart, helmSectionLimits.charts).refine((c) => c.length > 0, { message: 'names no chart' }),
});

const local = z.strictObject({
  name: text,
  path: z.string().min(1).max(helmSectionLimits.pathLength),
  imagePaths,
  version: refused("a local chart's version is its Chart.yaml's"),
});

/** `mirror.helm`'s shape (its output is a {@link HelmSelection}). */
export const helmSchema = z
  .strictObject({
    repositories: list(repository, helmSectionLimits.repositories),
    local: list(local, helmSectionLimits.local),
  })
  .transform(({ repositories, local }): HelmSelection => ({
    repositories: repositories.map((r) => ({
      name: r.name,
      url: r.url,
      charts: r.charts.map((c) => ({
        name: c.name,
        version: c.version,
        ...(c.imagePaths === undefined ? {} : { imagePaths: c.imagePaths }),
      })),
    })),
    local: local.map((l) => ({
      name: l.name,
      path: l.path,
      ...(l.imagePaths === undefined ? {} : { imagePaths: l.imagePaths }),
    })),
  }));
