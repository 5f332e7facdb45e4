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
export async function listTagPages(
  client: TagListClient,
  repository: string,
  scopes: readonly string[],
  options: TagListOptions = {},
): Promise<string[]> {
  const pageSize = options.pageSize ?? defaultTagPageSize;
  const maxPages = options.maxPages ?? defaultMaxTagPages;
  const display = `${client.registry}/${repository}`;
  const details = { registry: client.registry, repository };
  const base = await client.transport.baseUrl(client.registry);
  const tags: string[] = [];
  let url = new URL(`v2/${repository}/tags/list?n=${pageSize}`, base);
  for (let page = 1; ; page++) {
    const res = await client.request({
      method: 'GET',
      path: url,
      repository,
      scopes,
      // Only the first page may say "no such repository"; a later 404 is an error, not an empty rest.
      expect: page === 1 ? [200, 404] : [200],
    });
    if (res.status === 404) {
      discardBody(res.body);
      return tags;
    }
    tags.push(...(await readTagPage(res, page, display, details)));
    const next = nextLink(res.headers[Header.link]);
    if (next === undefined) return tags;
    const nextUrl = new URL(next, url);
    if (nextUrl.origin !== base.origin)
      throw new TagListError(
        `${display}: tags/list page ${page} links to another origin (${nextUrl.origin}, not ${base.origin}); refused`,
        { ...details, codes: ['LINK_CROSS_ORIGIN'] },
      );
    if (page >= maxPages)
      throw new TagListError(`${display}: tags/list has more than ${maxPages} pages of ${pageSize} tags; stopped`, {
        ...details,
        codes: ['TOO_MANY_PAGES'],
      });
    url = nextUrl;
  }
}

/** One page's tags: size-capped, parsed and validated; anything else is a typed error naming the repository. */
async function readTagPage(
  res: HttpResponse,
  page: number,
  display: string,
  details: { registry: string; repository: string },
): Promise<string[]> {
  const invalid = (why: string, cause?: unknown): TagListError =>
    new TagListError(`${display}: tags/list page ${page} ${why}`, {
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
  const parsed = tagPageSchema.safeParse(doc);
  if (!parsed.success) throw invalid('is not a tag list ({"name","tags":[strings]})', parsed.error);
  return parsed.data.tags ?? [];
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
