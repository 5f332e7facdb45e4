import { z } from 'zod';
import { TagListError } from './errors.js';
import { Header, maxManifestBytes } from './media-types.js';
import type { RegistryClient } from './registry-client.js';
import type { TagListOptions } from './repository.js';
import { discardBody, type HttpResponse, readUpTo, type Transport } from './transport.js';

/** ECR's largest page (`n` above it is a 400 there). */
export const defaultTagPageSize = 1000;
/** A million tags at the default page size: far beyond any real repository, short of a registry that loops. */
export const defaultMaxTagPages = 1000;
/** The most bytes read from one page (a registry that ignores `n` may send every tag at once). */
export const maxTagPageBytes = 16 * maxManifestBytes;

/** What listing needs of a RegistryClient (a narrow type, so unit tests can script the pages). */
export type TagListClient = Pick<RegistryClient, 'registry' | 'request'> & {
  readonly transport: Pick<Transport, 'baseUrl'>;
};

/** `{"name": …, "tags": […]}`; `tags` is null on some registries for a repository without tags. */
const tagPageSchema = z.object({ tags: z.array(z.string()).nullish() });

/**
 * Every tag of one repository, following `Link: <…>; rel="next"` pages (distribution spec,
 * "Listing Tags"). A repository the registry does not know has no tags.
 *
 * WARNING: a next page is only ever fetched from the registry's own origin (scheme, host and
 * port of its base URL). A `Link` elsewhere is refused before any request: a registry must not
 * steer Ferry to another host, and this client's Authorization must never follow it there.
 */
export function listTagPages(
  client: TagListClient,
  repository: string,
  scopes: readonly string[],
  options: TagListOptions = {},
): Promise<string[]> {
  const pageSize = options.pageSize ?? defaultTagPageSize;
  return listPages(client, `v2/${repository}/tags/list?n=${pageSize}`, {
    what: 'tags/list',
    display: `${client.registry}/${repository}`,
    details: { registry: client.registry, repository },
    repository,
    scopes,
    schema: tagPageSchema,
    items: (page) => page.tags ?? [],
    pageSize,
    maxPages: options.maxPages ?? defaultMaxTagPages,
    // Only the first page may say "no such repository"; a later 404 is an error, not an empty rest.
    emptyOn404: true,
  });
}

/** `{"repositories": […]}`. */
const catalogPageSchema = z.object({ repositories: z.array(z.string()).nullish() });

/**
 * Every repository of a registry (`GET /v2/_catalog`, scope `registry:catalog:*`), following
 * `Link` pages under the same rules as tags. Registries that do not offer the catalog answer
 * 401/403/404: a typed error.
 */
export function listCatalogPages(client: TagListClient, options: TagListOptions = {}): Promise<string[]> {
  const pageSize = options.pageSize ?? defaultTagPageSize;
  return listPages(client, `v2/_catalog?n=${pageSize}`, {
    what: '_catalog',
    display: client.registry,
    details: { registry: client.registry },
    scopes: ['registry:catalog:*'],
    schema: catalogPageSchema,
    items: (page) => page.repositories ?? [],
    pageSize,
    maxPages: options.maxPages ?? defaultMaxTagPages,
    emptyOn404: false,
  });
}

interface PageListing<T> {
  readonly what: string;
  readonly display: string;
  readonly details: { registry: string; repository?: string };
  readonly repository?: string;
  readonly scopes: readonly string[];
  readonly schema: z.ZodType<T>;
  readonly items: (page: T) => string[];
  readonly pageSize: number;
  readonly maxPages: number;
  readonly emptyOn404: boolean;
}

async function listPages<T>(client: TagListClient, first: string, listing: PageListing<T>): Promise<string[]> {
  const { what, display, details } = listing;
  const base = await client.transport.baseUrl(client.registry);
  const out: string[] = [];
  let url = new URL(first, base);
  for (let page = 1; ; page++) {
    const res = await client.request({
      method: 'GET',
      path: url,
      ...(listing.repository === undefined ? {} : { repository: listing.repository }),
      scopes: listing.scopes,
      expect: page === 1 && listing.emptyOn404 ? [200, 404] : [200],
    });
    if (res.status === 404) {
      discardBody(res.body);
      return out;
    }
    out.push(...listing.items(await readPage(res, page, listing)));
    const next = nextLink(res.headers[Header.link]);
    if (next === undefined) return out;
    const nextUrl = new URL(next, url);
    if (nextUrl.origin !== base.origin)
      throw new TagListError(
        `${display}: ${what} page ${page} links to another origin (${nextUrl.origin}, not ${base.origin}); refused`,
        { ...details, codes: ['LINK_CROSS_ORIGIN'] },
      );
    if (page >= listing.maxPages)
      throw new TagListError(
        `${display}: ${what} has more than ${listing.maxPages} pages of ${listing.pageSize}; stopped`,
        { ...details, codes: ['TOO_MANY_PAGES'] },
      );
    url = nextUrl;
  }
}

/** One page: size-capped, parsed and validated; anything else is a typed error naming the repository. */
async function readPage<T>(res: HttpResponse, page: number, listing: PageListing<T>): Promise<T> {
  const { display, details, what } = listing;
  const invalid = (why: string, cause?: unknown): TagListError =>
    new TagListError(`${display}: ${what} page ${page} ${why}`, {
      ...details,
      codes: ['TAG_LIST_INVALID'],
      ...(cause === undefined ? {} : { cause }),
    });
  const { bytes, complete } = await readUpTo(res.body, maxTagPageBytes);
  if (!complete) throw invalid(`is larger than ${maxTagPageBytes} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw invalid('is not JSON', err);
  }
  const parsed = listing.schema.safeParse(doc);
  if (!parsed.success) throw invalid(`is not a ${what} page`, parsed.error);
  return parsed.data;
}

/**
 * The `rel="next"` target of `Link` header values (RFC 8288: several links per header, or
 * several headers; `rel` may list more than one relation).
 */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const values = header === undefined ? [] : Array.isArray(header) ? header : [header];
  for (const value of values) {
    for (const match of value.matchAll(/<([^>]*)>([^,<]*)/g)) {
      const rel = /(?:^|;)\s*rel\s*=\s*(?:"([^"]*)"|([^\s;]+))/i.exec(match[2]!);
      const relations = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
      if (relations.includes('next')) return match[1]!;
    }
  }
  return undefined;
}
