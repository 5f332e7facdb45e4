import { parseDocument } from 'yaml';
import { z } from 'zod';
import { HelmError } from './errors.js';

// A chart repository's `index.yaml` (helm pkg/repo/v1/index.go IndexFile): `apiVersion: v1`,
// `entries.<chart>[]` each a chart's metadata plus `urls` (absolute, or relative to the repository
// URL) and `digest` (sha256 hex of the .tgz, optional), `created`. Only what Ferry needs is read.

const digestHex = /^[a-f0-9]{64}$/;

const entrySchema = z.looseObject({
  name: z.string().optional(),
  version: z.string(),
  urls: z.array(z.string().min(1)).min(1),
  digest: z.string().optional(),
});

const indexSchema = z.looseObject({
  apiVersion: z.string().optional(),
  entries: z.record(z.string(), z.unknown()).nullish(),
});

/** The chart version an index names: where its `.tgz` is and the digest the index promises. */
export interface IndexedChart {
  readonly name: string;
  readonly version: string;
  /** The `.tgz` URL, resolved against the repository URL as helm does. */
  readonly url: string;
  /** `sha256:<hex>` when the index gives a digest. */
  readonly digest?: string;
}

/** `<repository>/index.yaml`, as helm asks for it (the repository URL's query kept). */
export function indexUrl(repositoryUrl: string): string {
  return resolveChartUrl(repositoryUrl, 'index.yaml');
}

/**
 * helm's `ResolveReferenceURL`: an absolute URL as it is; a relative one against the repository
 * URL with one trailing slash (`https://h/charts` + `a-1.0.0.tgz` → `https://h/charts/a-1.0.0.tgz`),
 * keeping the repository URL's query (signed-URL repositories).
 */
export function resolveChartUrl(repositoryUrl: string, ref: string): string {
  if (/^[a-z][a-z0-9+.-]*:/i.test(ref)) return new URL(ref).toString();
  const base = new URL(repositoryUrl);
  base.pathname = `${base.pathname.replace(/\/+$/, '')}/`;
  const query = base.search;
  base.hash = '';
  const resolved = new URL(ref, base);
  resolved.search = query;
  return resolved.toString();
}

/**
 * Finds `name`@`version` in an `index.yaml` text fetched from `from` (for messages) of the
 * repository at `repositoryUrl`. The index is YAML (or JSON); aliases are capped. A missing chart
 * or version is `HELM_CHART_NOT_FOUND`; an index that does not parse `HELM_INDEX_INVALID`.
 */
export function findChart(text: string, repositoryUrl: string, name: string, version: string): IndexedChart {
  const from = indexUrl(repositoryUrl);
  // failsafe: every scalar a string, so `version: 1.10` stays "1.10" (as Go reads it into a string).
  const doc = parseDocument(text, { merge: false, schema: 'failsafe', prettyErrors: false });
  if (doc.errors[0] !== undefined)
    throw new HelmError('HELM_INDEX_INVALID', `${from}: not YAML: ${doc.errors[0].message}`, { cause: doc.errors[0] });
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new HelmError('HELM_INDEX_INVALID', `${from}: not YAML: ${String(err)}`, { cause: err });
  }
  const index = indexSchema.safeParse(value);
  if (!index.success) throw new HelmError('HELM_INDEX_INVALID', `${from}: ${z.prettifyError(index.error)}`);
  const entries = index.data.entries ?? {};
  const versions = Object.hasOwn(entries, name) ? entries[name] : undefined;
  if (!Array.isArray(versions)) throw new HelmError('HELM_CHART_NOT_FOUND', `${from}: no chart named ${name}`);
  for (const raw of versions as unknown[]) {
    const entry = entrySchema.safeParse(raw);
    if (!entry.success || entry.data.version !== version) continue;
    const digest = entry.data.digest?.toLowerCase().replace(/^sha256:/, '');
    if (digest !== undefined && digest !== '' && !digestHex.test(digest))
      throw new HelmError(
        'HELM_INDEX_INVALID',
        `${from}: ${name} ${version}: digest "${entry.data.digest}" is not sha256`,
      );
    let url: string;
    try {
      url = resolveChartUrl(repositoryUrl, entry.data.urls[0]!);
    } catch (err) {
      throw new HelmError('HELM_INDEX_INVALID', `${from}: ${name} ${version}: bad URL ${entry.data.urls[0]}`, {
        cause: err,
      });
    }
    return { name, version, url, ...(digest === undefined || digest === '' ? {} : { digest: `sha256:${digest}` }) };
  }
  throw new HelmError('HELM_CHART_NOT_FOUND', `${from}: chart ${name} has no version ${version}`);
}
