import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseImageSet, imageSetLimits } from '../../../functions/mirror/image-set/document.js';
import { ImageSetError } from '../../../functions/mirror/image-set/errors.js';
import { FerryError } from '../../../functions/oci/errors.js';
import { digestA, issueExample } from './fixtures.js';

const header = { apiVersion: 'mirror.openshift.io/v2alpha1', kind: 'ImageSetConfiguration' };
const doc = (mirror: unknown, extra: Record<string, unknown> = {}) => ({ ...header, ...extra, mirror });
const repos = (...entries: unknown[]) => doc({ repositories: entries });
const nginx = { name: 'docker.io/library/nginx', tags: {} };

function failure(input: unknown, format?: 'yaml' | 'json'): ImageSetError {
  try {
    parseImageSet(input, format);
  } catch (err) {
    if (err instanceof ImageSetError) return err;
    throw err;
  }
  throw new Error('parseImageSet accepted the document');
}

const expectedExample = {
  additionalImages: [{ name: 'registry.k8s.io/pause:3.10' }, { name: `quay.io/org/app@${digestA}` }],
  blockedImages: [{ name: 'docker.io/library/busybox' }],
  repositories: [
    {
      name: 'docker.io/library/nginx',
      tags: { include: ['^1\\.2[6-9]\\.'], exclude: ['-alpine', 'rc'], semver: '>=1.26.0 <2', latest: 3 },
      platforms: ['linux/amd64'],
    },
  ],
};

describe('parseImageSet: valid documents', () => {
  it("parses issue 9's example YAML with no warning", () => {
    expect(parseImageSet(issueExample)).toEqual({ set: expectedExample, warnings: [] });
  });

  it('parses the same document as JSON text and as a decoded value', () => {
    const value = parseImageSet(issueExample).set;
    const json = JSON.stringify(doc(value));
    expect(parseImageSet(json, 'json').set).toEqual(expectedExample);
    expect(parseImageSet(json).set).toEqual(expectedExample); // YAML reads JSON too
    expect(parseImageSet(JSON.parse(json)).set).toEqual(expectedExample);
  });

  it('reads absent or empty (null) lists as empty, and a missing tags policy as select-all', () => {
    const text = `${stringify(header)}mirror:\n  additionalImages:\n  repositories:\n    - name: quay.io/org/app\n`;
    expect(parseImageSet(text).set).toEqual({
      additionalImages: [],
      blockedImages: [],
      repositories: [{ name: 'quay.io/org/app', tags: {} }],
    });
    expect(parseImageSet(doc({})).set).toEqual({ additionalImages: [], blockedImages: [], repositories: [] });
  });

  it("turns oc-mirror's additionalImages platforms [{os, architecture}] into os/arch strings", () => {
    const set = parseImageSet(
      doc({ additionalImages: [{ name: 'alpine:3', platforms: [{ os: 'linux', architecture: 'arm64' }] }] }),
    ).set;
    expect(set.additionalImages).toEqual([{ name: 'alpine:3', platforms: ['linux/arm64'] }]);
  });

  it('accepts repository platforms with a variant', () => {
    expect(parseImageSet(repos({ ...nginx, platforms: ['linux/arm/v7'] })).set.repositories[0]!.platforms).toEqual([
      'linux/arm/v7',
    ]);
  });
});

describe('parseImageSet: oc-mirror sections Ferry ignores, one warning each', () => {
  it.each([['mirror.samples', doc({ samples: [{ name: 'x' }] })]])('%s', (path, value) => {
    const { set, warnings } = parseImageSet(value);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.startsWith(`${path}: ignored`)).toBe(true);
    expect(set).toEqual({ additionalImages: [], blockedImages: [], repositories: [] });
  });

  it('warns once per section and still reads the rest; archiveSize is read (the part size of mirror-to-disk)', () => {
    const value = doc({ samples: [], additionalImages: [{ name: 'alpine:3' }] }, { archiveSize: 1.5 });
    const { set, warnings } = parseImageSet(value);
    expect(warnings.map((w) => w.slice(0, w.indexOf(':')))).toEqual(['mirror.samples']);
    expect(set.additionalImages).toEqual([{ name: 'alpine:3' }]);
    expect(set.archiveSize).toBe(1.5);
    expect(() => parseImageSet(doc({}, { archiveSize: -1 }))).toThrow(/archiveSize/);
  });
});

describe('parseImageSet: unknown fields are errors naming the path', () => {
  it.each([
    ['storageConfig', doc({}, { storageConfig: {} })],
    ['delete', doc({}, { delete: {} })],
    ['mirror.images', doc({ images: [] })],
    ['mirror.additionalImages[1].tag', doc({ additionalImages: [{ name: 'a:1' }, { name: 'b', tag: '1' }] })],
    ['mirror.blockedImages[0].nam', doc({ blockedImages: [{ nam: 'x' }] })],
    ['mirror.repositories[2].tags.semvr', repos(nginx, nginx, { ...nginx, tags: { semvr: '>=1' } })],
    ['mirror.repositories[0].platform', repos({ ...nginx, platform: ['linux/amd64'] })],
    [
      'mirror.additionalImages[0].platforms[0].variant',
      doc({ additionalImages: [{ name: 'a', platforms: [{ os: 'linux', architecture: 'arm', variant: 'v7' }] }] }),
    ],
  ])('%s', (path, value) => {
    const err = failure(value);
    expect(err).toBeInstanceOf(FerryError);
    expect(err.name).toBe('ImageSetError');
    expect(err.code).toBe('IMAGE_SET_INVALID');
    expect(err.path).toBe(path);
  });

  it('refuses a __proto__ key as an unknown field (it never becomes a prototype)', () => {
    const json = `{"__proto__": {"mirror": {}}, "apiVersion": "${header.apiVersion}", "kind": "${header.kind}"}`;
    expect(failure(json, 'json').path).toBe('__proto__');
    expect(failure(`${stringify(doc({}))}__proto__: {}\n`).path).toBe('__proto__');
  });

  it('names the path in YAML input too', () => {
    expect(failure(issueExample.replace("semver: '>=1.26.0 <2'", "semvr: '>=1.26.0 <2'")).path).toBe(
      'mirror.repositories[0].tags.semvr',
    );
  });
});

describe('parseImageSet: invalid values name the path', () => {
  const long = 'a'.repeat(imageSetLimits.nameLength + 1);
  it.each([
    ['apiVersion', { ...doc({}), apiVersion: 'mirror.openshift.io/v1alpha2' }],
    ['kind', { ...doc({}), kind: 'DeleteImageSetConfiguration' }],
    ['mirror', header],
    ['mirror.additionalImages[0].name', doc({ additionalImages: [{ name: 'Not/Valid:Ref' }] })],
    ['mirror.additionalImages[0].name', doc({ additionalImages: [{ name: '' }] })],
    ['mirror.additionalImages[0].name', doc({ additionalImages: [{ name: long }] })],
    ['mirror.additionalImages[0].name', doc({ additionalImages: [{}] })],
    ['mirror.additionalImages[0].targetRepo', doc({ additionalImages: [{ name: 'a:1', targetRepo: 'x/y' }] })],
    ['mirror.additionalImages[0].targetTag', doc({ additionalImages: [{ name: 'a:1', targetTag: 'v1' }] })],
    [
      'mirror.additionalImages[0].platforms[0].os',
      doc({ additionalImages: [{ name: 'a', platforms: [{ architecture: 'amd64' }] }] }),
    ],
    ['mirror.additionalImages', doc({ additionalImages: { name: 'a' } })],
    ['mirror.blockedImages[0].name', doc({ blockedImages: [{ name: '(unclosed' }] })],
    ['mirror.blockedImages[0].name', doc({ blockedImages: [{ name: '(a+)+' }] })],
    ['mirror.repositories[0].name', repos({ name: 'docker.io/library/nginx:1.27' })],
    ['mirror.repositories[0].name', repos({ name: `quay.io/org/app@${digestA}` })],
    ['mirror.repositories[0].name', repos({ name: 'UPPER/case' })],
    ['mirror.repositories[0].tags.include[1]', repos({ ...nginx, tags: { include: ['ok', '[z-a]'] } })],
    ['mirror.repositories[0].tags.exclude[0]', repos({ ...nginx, tags: { exclude: ['(?=x)'] } })],
    ['mirror.repositories[0].tags.include', repos({ ...nginx, tags: { include: 'one' } })],
    ['mirror.repositories[0].tags.semver', repos({ ...nginx, tags: { semver: 'newest please' } })],
    ['mirror.repositories[0].tags.latest', repos({ ...nginx, tags: { latest: 0 } })],
    ['mirror.repositories[0].tags.latest', repos({ ...nginx, tags: { latest: -2 } })],
    ['mirror.repositories[0].tags.latest', repos({ ...nginx, tags: { latest: 1.5 } })],
    ['mirror.repositories[0].tags.latest', repos({ ...nginx, tags: { latest: '3' } })],
    ['mirror.repositories[0].platforms[1]', repos({ ...nginx, platforms: ['linux/amd64', 'linux'] })],
    ['mirror.repositories[0].platforms[0]', repos({ ...nginx, platforms: ['linux//v7'] })],
  ])('%s', (path, value) => {
    const err = failure(value);
    expect(err.code).toBe('IMAGE_SET_INVALID');
    expect(err.path).toBe(path);
  });
});

describe('parseImageSet: limits and hostile input', () => {
  it.each([
    [
      'mirror.additionalImages',
      doc({ additionalImages: Array(imageSetLimits.additionalImages + 1).fill({ name: 'a' }) }),
    ],
    ['mirror.blockedImages', doc({ blockedImages: Array(imageSetLimits.blockedImages + 1).fill({ name: 'a' }) })],
    ['mirror.repositories', repos(...Array<unknown>(imageSetLimits.repositories + 1).fill(nginx))],
    ['mirror.repositories[0].tags.include', repos({ ...nginx, tags: { include: Array(51).fill('a') } })],
    ['mirror.repositories[0].platforms', repos({ ...nginx, platforms: Array(17).fill('linux/amd64') })],
    ['mirror.repositories[0].tags.latest', repos({ ...nginx, tags: { latest: imageSetLimits.latest + 1 } })],
    ['mirror.repositories[0].tags.semver', repos({ ...nginx, tags: { semver: `>=1.0.0 ${' '.repeat(300)}` } })],
    ['mirror.repositories[0].tags.include[0]', repos({ ...nginx, tags: { include: ['a'.repeat(257)] } })],
  ])('caps %s', (path, value) => {
    expect(failure(value).path).toBe(path);
  });

  it('accepts a list at its limit', () => {
    const value = doc({ blockedImages: Array(imageSetLimits.blockedImages).fill({ name: 'a' }) });
    expect(parseImageSet(value).set.blockedImages).toHaveLength(imageSetLimits.blockedImages);
  });

  it.each([
    ['text over the size limit', `${stringify(doc({}))}#${'x'.repeat(imageSetLimits.documentBytes)}`, undefined],
    ['a value over the size limit', doc({}, { pad: 'x'.repeat(imageSetLimits.documentBytes) }), undefined],
    ['malformed YAML', 'mirror: [unclosed', undefined],
    ['malformed JSON', '{"mirror": ', 'json' as const],
    ['duplicate keys', `${stringify(header)}mirror: {}\nmirror: {}\n`, undefined],
    ['several YAML documents', `${stringify(doc({}))}---\n${stringify(doc({}))}`, undefined],
    ['a top level that is not a mapping', '- a\n- b\n', undefined],
    ['a scalar', 42, undefined],
  ])('refuses %s at the document (empty path)', (_name, input, format) => {
    const err = failure(input, format);
    expect(err.code).toBe('IMAGE_SET_INVALID');
    expect(err.path).toBe('');
  });

  it('stops a YAML alias bomb', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) {
      const prev = String.fromCharCode(97 + i);
      const next = String.fromCharCode(98 + i);
      lines.push(`${next}: &${next} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    }
    expect(failure(`${lines.join('\n')}\n${stringify(doc({}))}`).path).toBe('');
  });
});
