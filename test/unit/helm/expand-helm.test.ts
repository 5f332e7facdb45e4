import { describe, expect, it } from 'vitest';
import { parseImageSet } from '../../../functions/mirror/image-set/document.js';
import { expandImageSet, expandImageSetContent } from '../../../functions/mirror/image-set/expand.js';
import type { HelmExpansion } from '../../../functions/mirror/helm/expand-helm.js';
import type { HelmSources } from '../../../functions/mirror/helm/http.js';
import { chartTgz, indexYaml, sha256Hex } from '../../support/helm-fixture.js';

const repo = 'https://charts.test/stable';

/** An in-memory chart repository: URL → bytes, with a log of the GETs. */
function fakeSources(files: Map<string, Buffer>, local?: Map<string, Buffer>): HelmSources & { gets: string[] } {
  const gets: string[] = [];
  return {
    gets,
    getBytes(url) {
      gets.push(url);
      const body = files.get(url);
      return body === undefined ? Promise.reject(new Error(`404 ${url}`)) : Promise.resolve(body);
    },
    ...(local === undefined
      ? {}
      : {
          readLocal: (path: string) => {
            const body = local.get(path);
            return body === undefined ? Promise.reject(new Error('ENOENT')) : Promise.resolve(body);
          },
        }),
  };
}

const doc = (helm: string): string => `apiVersion: mirror.openshift.io/v2alpha1
kind: ImageSetConfiguration
mirror:
  additionalImages:
    - name: quay.io/acme/web:1.0
  blockedImages:
    - name: docker.io/library/redis
  helm:
${helm}`;

async function fixture(): Promise<{ files: Map<string, Buffer>; web: Buffer; db: Buffer }> {
  const web = await chartTgz({
    dir: 'web',
    files: {
      'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: "1.0"\n',
      'values.yaml': 'image:\n  registry: quay.io\n  repository: acme/web\n',
      'templates/cache.yaml': 'containers:\n  - image: redis:7\n',
    },
  });
  const db = await chartTgz({
    dir: 'db',
    files: { 'Chart.yaml': 'apiVersion: v2\nname: db\nversion: 2.0.0+b1\n', 'values.yaml': 'image: postgres:16\n' },
  });
  const index = indexYaml([
    { name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: sha256Hex(web) },
    { name: 'db', version: '2.0.0+b1', urls: ['https://cdn.test/db.tgz'] },
  ]);
  const files = new Map([
    [`${repo}/index.yaml`, Buffer.from(index)],
    [`${repo}/web-1.0.0.tgz`, web],
    ['https://cdn.test/db.tgz', db],
  ]);
  return { files, web, db };
}

const twoCharts = `    repositories:
      - name: stable
        url: ${repo}
        charts:
          - name: web
            version: 1.0.0
          - name: db
            version: 2.0.0+b1
`;

describe('expandImageSetContent with mirror.helm', () => {
  it('charts to push and the images they name, as additional images with where found', async () => {
    const { files, web } = await fixture();
    const sources = fakeSources(files);
    let helm: HelmExpansion | undefined;
    const { images } = await expandImageSetContent(
      parseImageSet(doc(twoCharts)).set,
      { listTags: () => Promise.reject(new Error('no listing')), ...sources },
      { registry: 'reg.test', prefix: 'm' },
      { onHelm: (h) => (helm = h) },
    );
    // The index is read once for both charts.
    expect(sources.gets.sort()).toEqual(
      [`${repo}/index.yaml`, `${repo}/web-1.0.0.tgz`, 'https://cdn.test/db.tgz'].sort(),
    );
    expect(images).toEqual([
      {
        source: 'quay.io/acme/web:1.0',
        destination: 'reg.test/m/acme/web:1.0',
        byDigest: false,
        foundIn: ['web-1.0.0 values.yaml .image'],
      },
      {
        source: 'docker.io/library/redis:7',
        destination: 'reg.test/m/library/redis:7',
        byDigest: false,
        foundIn: ['web-1.0.0 templates/cache.yaml:2'],
        blocked: true,
      },
      {
        source: 'docker.io/library/postgres:16',
        destination: 'reg.test/m/library/postgres:16',
        byDigest: false,
        foundIn: ['db-2.0.0+b1 values.yaml .image'],
      },
    ]);
    expect(helm!.charts.map((c) => [c.name, c.version, c.destination, c.source.kind])).toEqual([
      ['web', '1.0.0', 'reg.test/m/web:1.0.0', 'repository'],
      ['db', '2.0.0+b1', 'reg.test/m/db:2.0.0_b1', 'repository'],
    ]);
    expect(helm!.charts[0]!.bytes.equals(web)).toBe(true);
    expect(helm!.charts[0]!.source).toEqual({
      kind: 'repository',
      repository: repo,
      url: `${repo}/web-1.0.0.tgz`,
      digest: `sha256:${sha256Hex(web)}`,
    });
  });

  it('a .tgz that does not hash to the index digest fails the expansion', async () => {
    const { files, db } = await fixture();
    files.set(`${repo}/web-1.0.0.tgz`, db);
    await expect(
      expandImageSetContent(
        parseImageSet(doc(twoCharts)).set,
        { listTags: () => Promise.resolve([]), ...fakeSources(files) },
        { registry: 'reg.test' },
      ),
    ).rejects.toMatchObject({ name: 'HelmError', code: 'HELM_DIGEST_MISMATCH' });
  });

  it('local charts: read through readLocal (the CLI), refused without it', async () => {
    const { web } = await fixture();
    const text = doc(`    local:\n      - name: mine\n        path: ./web.tgz\n`);
    const { set } = parseImageSet(text, 'yaml', { localCharts: true });
    let helm: HelmExpansion | undefined;
    await expandImageSetContent(
      set,
      { listTags: () => Promise.resolve([]), ...fakeSources(new Map(), new Map([['./web.tgz', web]])) },
      { registry: 'reg.test' },
      { onHelm: (h) => (helm = h) },
    );
    expect(helm!.charts.map((c) => [c.destination, c.source])).toEqual([
      ['reg.test/web:1.0.0', { kind: 'local', path: './web.tgz' }],
    ]);
    await expect(
      expandImageSetContent(
        set,
        { listTags: () => Promise.resolve([]), ...fakeSources(new Map()) },
        { registry: 'reg.test' },
      ),
    ).rejects.toMatchObject({ name: 'HelmError', code: 'HELM_URL_REFUSED' });
  });

  it('a run of the API (expandImageSet: images only) refuses a set with charts: their images without them would be half a mirror', async () => {
    const { files } = await fixture();
    await expect(
      expandImageSet(
        parseImageSet(doc(twoCharts)).set,
        { listTags: () => Promise.resolve([]), ...fakeSources(files) },
        { registry: 'reg.test' },
      ),
    ).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/^mirror\.helm: /) });
  });

  it('a caller without an HTTP port cannot expand mirror.helm', async () => {
    await expect(
      expandImageSetContent(
        parseImageSet(doc(twoCharts)).set,
        { listTags: () => Promise.resolve([]) },
        { registry: 'r.test' },
      ),
    ).rejects.toThrow(/mirror\.helm/);
  });
});

describe('parseImageSet: mirror.helm', () => {
  it('reads repositories and charts', () => {
    const { set, warnings } = parseImageSet(
      doc(`    repositories:
      - name: podinfo
        url: https://charts.test/podinfo
        charts:
          - name: podinfo
            version: 6.5.0
            imagePaths: ['{.image.repository}:{.image.tag}']
`),
    );
    expect(warnings).toEqual([]);
    expect(set.helm).toEqual({
      repositories: [
        {
          name: 'podinfo',
          url: 'https://charts.test/podinfo',
          charts: [{ name: 'podinfo', version: '6.5.0', imagePaths: ['{.image.repository}:{.image.tag}'] }],
        },
      ],
      local: [],
    });
  });

  it.each([
    ['mirror.helm.local', `    local:\n      - name: x\n        path: /etc/passwd\n`],
    [
      'mirror.helm.repositories[0].url',
      `    repositories:\n      - name: r\n        url: ftp://h.test/r\n        charts: [{ name: a, version: '1' }]\n`,
    ],
    [
      'mirror.helm.repositories[0].charts',
      `    repositories:\n      - name: r\n        url: https://h.test/r\n        charts: []\n`,
    ],
    [
      'mirror.helm.repositories[0].charts[0].path',
      `    repositories:\n      - name: r\n        url: https://h.test/r\n        charts: [{ name: a, version: '1', path: x.tgz }]\n`,
    ],
    [
      'mirror.helm.repositories[0].charts[0].name',
      `    repositories:\n      - name: r\n        url: https://h.test/r\n        charts: [{ name: A/b, version: '1' }]\n`,
    ],
    [
      'mirror.helm.repositories[0].charts[0].imagePaths[0]',
      `    repositories:\n      - name: r\n        url: https://h.test/r\n        charts: [{ name: a, version: '1', imagePaths: ['{range .x}'] }]\n`,
    ],
    [
      'mirror.helm.repositories[0].nam',
      `    repositories:\n      - nam: r\n        url: https://h.test/r\n        charts: [{ name: a, version: '1' }]\n`,
    ],
  ])('refuses %s (API rules: no localCharts)', (path, helm) => {
    expect(() => parseImageSet(doc(helm))).toThrow(expect.objectContaining({ name: 'ImageSetError', path }));
  });

  it('accepts http (the CLI reads it only from insecure hosts)', () => {
    const { set } = parseImageSet(
      doc(
        `    repositories:\n      - name: r\n        url: http://127.0.0.1:8080/r\n        charts: [{ name: a, version: '1' }]\n`,
      ),
    );
    expect(set.helm!.repositories[0]!.url).toBe('http://127.0.0.1:8080/r');
  });
});
