import { type Peer, scriptedHttp } from '../support/scripted-peers.js';

/**
 * docker-registry 2.8 (the one installed) answers tags/list with every tag at once, whatever `n`
 * says (distribution pages tags from v3 on, as ECR does). This front pages the real registry's
 * own list as distribution v3 does: sorted, `n` after `last`, and a relative `Link` while more remain.
 */
export function pagingFront(upstream: string): Promise<Peer> {
  return scriptedHttp('127.0.0.1', (req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const match = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    if (!match) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    void fetch(`${upstream}/v2/${match[1]}/tags/list`).then(async (answer) => {
      const doc = (await answer.json()) as { name: string; tags: string[] };
      const n = Number(url.searchParams.get('n') ?? 100);
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
