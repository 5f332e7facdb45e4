import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TagListError } from '../../functions/oci/errors.js';
import type { RegistryRequest } from '../../functions/oci/registry-client.js';
import { listTagPages, nextLink, type TagListClient } from '../../functions/oci/tag-list.js';
import type { HttpResponse } from '../../functions/oci/transport.js';

interface Page {
  readonly status?: number;
  readonly body: string | Buffer;
  readonly link?: string | string[];
}

/** A registry client that answers tags/list from a script keyed by request path and query. */
function scripted(pages: Record<string, Page>): TagListClient & { asked: string[] } {
  const base = new URL('https://registry.test/');
  const asked: string[] = [];
  return {
    registry: 'registry.test',
    asked,
    transport: { baseUrl: () => Promise.resolve(base) },
    request: (req: RegistryRequest): Promise<HttpResponse> => {
      const url = typeof req.path === 'string' ? new URL(req.path, base) : req.path;
      asked.push(url.href);
      const page = pages[`${url.pathname}${url.search}`];
      if (page === undefined) throw new Error(`unscripted request ${url.href}`);
      const status = page.status ?? 200;
      if (!req.expect.includes(status)) throw new Error(`status ${status} not expected`);
      return Promise.resolve({
        status,
        headers: page.link === undefined ? {} : { link: page.link },
        body: Readable.from([Buffer.from(page.body)]),
        url,
      });
    },
  };
}

const tags = (...list: string[]): string => JSON.stringify({ name: 'app', tags: list });

async function failure(attempt: Promise<unknown>): Promise<TagListError> {
  const err = await attempt.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TagListError);
  return err as TagListError;
}

describe('listTagPages', () => {
  it('asks for n= tags per page and follows relative and same-origin absolute Links', async () => {
    const client = scripted({
      '/v2/app/tags/list?n=2': { body: tags('a', 'b'), link: '</v2/app/tags/list?last=b&n=2>; rel="next"' },
      '/v2/app/tags/list?last=b&n=2': {
        body: tags('c', 'd'),
        link: '<https://registry.test/v2/app/tags/list?last=d&n=2>; rel=next',
      },
      '/v2/app/tags/list?last=d&n=2': { body: tags('e') },
    });
    expect(await listTagPages(client, 'app', [], { pageSize: 2 })).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(client.asked).toEqual([
      'https://registry.test/v2/app/tags/list?n=2',
      'https://registry.test/v2/app/tags/list?last=b&n=2',
      'https://registry.test/v2/app/tags/list?last=d&n=2',
    ]);
  });

  it('defaults to pages of 1000', async () => {
    const client = scripted({ '/v2/app/tags/list?n=1000': { body: tags('x') } });
    expect(await listTagPages(client, 'app', [])).toEqual(['x']);
  });

  it('reads a repository the registry does not know as no tags, and "tags": null as none', async () => {
    expect(
      await listTagPages(scripted({ '/v2/app/tags/list?n=1000': { status: 404, body: '{}' } }), 'app', []),
    ).toEqual([]);
    expect(
      await listTagPages(scripted({ '/v2/app/tags/list?n=1000': { body: '{"name":"app","tags":null}' } }), 'app', []),
    ).toEqual([]);
  });

  it.each([
    ['another host', 'https://elsewhere.test/v2/app/tags/list?last=a'],
    ['another scheme', 'http://registry.test/v2/app/tags/list?last=a'],
    ['another port', 'https://registry.test:8443/v2/app/tags/list?last=a'],
    ['a protocol-relative URL', '//elsewhere.test/v2/app/tags/list?last=a'],
  ])('refuses a Link to %s without requesting it', async (_what, link) => {
    const client = scripted({ '/v2/app/tags/list?n=1000': { body: tags('a'), link: `<${link}>; rel="next"` } });
    const err = await failure(listTagPages(client, 'app', []));
    expect(err.code).toBe('LINK_CROSS_ORIGIN');
    expect(err.registry).toBe('registry.test');
    expect(err.repository).toBe('app');
    expect(err.retryable).toBe(false);
    expect(client.asked).toEqual(['https://registry.test/v2/app/tags/list?n=1000']);
  });

  it('stops after maxPages with TOO_MANY_PAGES (a registry that links to itself for ever)', async () => {
    const client = scripted({
      '/v2/app/tags/list?n=1': { body: tags('a'), link: '</v2/app/tags/list?n=1>; rel="next"' },
    });
    const err = await failure(listTagPages(client, 'app', [], { pageSize: 1, maxPages: 3 }));
    expect(err.code).toBe('TOO_MANY_PAGES');
    expect(client.asked).toHaveLength(3);
  });

  it.each([
    ['not JSON', '<html>oops</html>'],
    ['not an object with tags', '["a","b"]'],
    ['tags that are not strings', '{"name":"app","tags":["a",1]}'],
  ])('fails with TAG_LIST_INVALID naming the repository when a page is %s', async (_what, body) => {
    const err = await failure(listTagPages(scripted({ '/v2/app/tags/list?n=1000': { body } }), 'app', []));
    expect(err.name).toBe('TagListError');
    expect(err.code).toBe('TAG_LIST_INVALID');
    expect(err.message.startsWith('registry.test/app: ')).toBe(true);
  });

  it('fails (and stops reading) when a page is larger than the cap', async () => {
    const huge = Buffer.alloc(64 * 1024 * 1024 + 1, 0x20);
    const err = await failure(listTagPages(scripted({ '/v2/app/tags/list?n=1000': { body: huge } }), 'app', []));
    expect(err.code).toBe('TAG_LIST_INVALID');
  });

  it('treats a 404 on a later page as an error, not as the end of the list', async () => {
    const client = scripted({
      '/v2/app/tags/list?n=1': { body: tags('a'), link: '</v2/app/tags/list?last=a&n=1>; rel="next"' },
      '/v2/app/tags/list?last=a&n=1': { status: 404, body: '{}' },
    });
    await expect(listTagPages(client, 'app', [], { pageSize: 1 })).rejects.toThrow('status 404 not expected');
  });
});

describe('nextLink', () => {
  it('finds rel="next" among several links, headers and relation lists', () => {
    expect(nextLink('</a>; rel="prev", </b>; rel="next"')).toBe('/b');
    expect(nextLink(['</a>; rel=prev', '</c>; title="x"; rel="last next"'])).toBe('/c');
    expect(nextLink('</d>; REL=Next')).toBe('/d');
    expect(nextLink('</e>; rel="nextish"')).toBeUndefined();
    expect(nextLink('</f>')).toBeUndefined();
    expect(nextLink(undefined)).toBeUndefined();
  });
});
