import { describe, expect, it } from 'vitest';
import { findChart, indexUrl, resolveChartUrl } from '../../../functions/mirror/helm/repo-index.js';
import { indexYaml } from '../../support/helm-fixture.js';

const hex = 'ab'.repeat(32);

describe('resolveChartUrl (helm ResolveReferenceURL)', () => {
  it.each([
    ['https://charts.test/repo', 'a-1.0.0.tgz', 'https://charts.test/repo/a-1.0.0.tgz'],
    ['https://charts.test/repo/', 'a-1.0.0.tgz', 'https://charts.test/repo/a-1.0.0.tgz'],
    ['https://charts.test', 'charts/a-1.0.0.tgz', 'https://charts.test/charts/a-1.0.0.tgz'],
    ['https://charts.test/repo', '../b/a.tgz', 'https://charts.test/b/a.tgz'],
    ['https://charts.test/repo', '/abs/a.tgz', 'https://charts.test/abs/a.tgz'],
    ['https://charts.test/repo?sig=1', 'a.tgz', 'https://charts.test/repo/a.tgz?sig=1'],
    ['https://charts.test/repo', 'https://cdn.test/x/a.tgz', 'https://cdn.test/x/a.tgz'],
  ])('%s + %s', (base, ref, want) => {
    expect(resolveChartUrl(base, ref)).toBe(want);
  });

  it('index.yaml sits under the repository URL', () => {
    expect(indexUrl('https://charts.test/repo')).toBe('https://charts.test/repo/index.yaml');
    expect(indexUrl('https://charts.test/repo/?t=2')).toBe('https://charts.test/repo/index.yaml?t=2');
  });
});

describe('findChart', () => {
  const index = indexYaml([
    { name: 'web', version: '1.0.0', urls: ['web-1.0.0.tgz'], digest: hex },
    { name: 'web', version: '1.10', urls: ['https://cdn.test/web-1.10.tgz'] },
    { name: 'db', version: '2.0.0+build.1', urls: ['db/db-2.0.0.tgz'], digest: `sha256:${hex.toUpperCase()}` },
  ]);

  it('finds a version with its resolved URL and digest', () => {
    expect(findChart(index, 'https://charts.test/r', 'web', '1.0.0')).toEqual({
      name: 'web',
      version: '1.0.0',
      url: 'https://charts.test/r/web-1.0.0.tgz',
      digest: `sha256:${hex}`,
    });
  });

  it('reads versions as written (1.10 is not 1.1) and entries without digest', () => {
    expect(findChart(index, 'https://charts.test/r', 'web', '1.10')).toEqual({
      name: 'web',
      version: '1.10',
      url: 'https://cdn.test/web-1.10.tgz',
    });
  });

  it('normalises a sha256:-prefixed upper-case digest', () => {
    expect(findChart(index, 'https://charts.test/r', 'db', '2.0.0+build.1').digest).toBe(`sha256:${hex}`);
  });

  it.each([
    ['an unknown chart', 'nope', '1.0.0', 'HELM_CHART_NOT_FOUND'],
    ['an unknown version', 'web', '9.9.9', 'HELM_CHART_NOT_FOUND'],
    ['a prototype key', '__proto__', '1.0.0', 'HELM_CHART_NOT_FOUND'],
  ])('%s is HELM_CHART_NOT_FOUND', (_, name, version, code) => {
    expect(() => findChart(index, 'https://charts.test/r', name, version)).toThrow(
      expect.objectContaining({ name: 'HelmError', code }),
    );
  });

  it.each([
    ['not YAML', 'entries: [\n'],
    ['a bad digest', indexYaml([{ name: 'web', version: '1.0.0', urls: ['w.tgz'], digest: 'md5:abc' }])],
    ['entries not a map', 'apiVersion: v1\nentries: [1, 2]\n'],
  ])('%s is HELM_INDEX_INVALID', (_, text) => {
    expect(() => findChart(text, 'https://charts.test/r', 'web', '1.0.0')).toThrow(
      expect.objectContaining({ name: 'HelmError', code: 'HELM_INDEX_INVALID' }),
    );
  });
});
