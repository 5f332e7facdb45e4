import { type Peer, scriptedHttp } from '../support/scripted-peers.js';

/**
 * docker-registry 2.8 (the one installed) answers tags/list with every tag at once, whatever `n`
 * says (distribution pages tags from v3 on, as ECR does). This front pages the real registry's
 * own list as distribution v3 does: sorted, `n` after `last` (at most `maxPage` a page: a registry
 * may answer fewer than asked), and a relative `Link` while more remain. Every other GET and HEAD
 * is passed through, so a whole image set can be read through it.
 */
export function pagingFront(upstream: string, options: { maxPage?: number } = {}): Promise<Peer> {
  return scriptedHttp('127.0.0.1', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (!match) {
      void passThrough(upstream, req.method ?? 'GET', url, req.headers).then(
        ({ status, headers, body }) => res.writeHead(status, headers).end(body),
        () => res.writeHead(502).end(),
      );
      return;
    }
    void fetch(`${upstream}/v2/${match[1]}/tags/list`).then(async (answer) => {
      const doc = (await answer.json()) as { name: string; tags: string[] };
      const n = Math.min(Number(url.searchParams.get('n') ?? 100), options.maxPage ?? Infinity);
      const last = url.searchParams.get('last');
      const rest = [...doc.tags].sort().filter((t) => last === null || t > last);
      const page = rest.slice(0, n);
      const more =
        rest.length > n ? { link: `</v2/${match[1]}/tags/list?last=${page.at(-1)}&n=${n}>; rel="next"` } : {};
      res
        .writeHead(200, { 'content-type': 'application/json', ...more })
        .end(JSON.stringify({ name: doc.name, tags: page }));
    });
  });
}

/** A read (GET/HEAD) of the upstream, with the headers a registry client's read depends on. */
async function passThrough(
  upstream: string,
  method: string,
  url: URL,
  headers: Record<string, string | string[] | undefined>,
): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
  const forwarded = Object.fromEntries(
    ['accept', 'range', 'authorization']
      .map((name) => [name, headers[name]] as const)
      .filter((entry): entry is readonly [string, string] => typeof entry[1] === 'string'),
  );
  const answer = await fetch(`${upstream}${url.pathname}${url.search}`, {
    method: method === 'HEAD' ? 'HEAD' : 'GET',
    headers: forwarded,
    redirect: 'manual',
  });
  const body = Buffer.from(await answer.arrayBuffer());
  const kept = ['content-type', 'content-length', 'docker-content-digest', 'content-range', 'www-authenticate'];
  return {
    status: answer.status,
    headers: Object.fromEntries(
      kept.flatMap((h) => (answer.headers.get(h) === null ? [] : [[h, answer.headers.get(h)!]])),
    ),
    body,
  };
}
