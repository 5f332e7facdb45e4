import { describe, expect, it } from 'vitest';
import { readChartArchive } from '../../../functions/mirror/helm/archive.js';
import { readChartMetadata } from '../../../functions/mirror/helm/chart-metadata.js';
import { buildOciChart, chartTag } from '../../../functions/mirror/helm/oci-chart.js';
import { chartTgz, sha256Hex } from '../../support/helm-fixture.js';

// The expected bytes below are written by hand from helm's code (pkg/registry/client.go Push,
// chart.go generateOCIAnnotations, pkg/chart/v2 Metadata's json tags) and Go's json.Marshal
// (struct field order, omitempty, sorted map keys, <>& escaped): not computed by Ferry.

const chartYaml = `apiVersion: v2
name: web
version: 1.2.3+meta
description: A <web> & chart
home: https://web.test
sources:
  - https://src.test/web
  - https://src.test/other
maintainers:
  - name: Ann
    email: ann@test
  - name: Bob
keywords: [a, b]
appVersion: "2.0"
type: application
deprecated: false
annotations:
  z.last: "1"
  artifacthub.io/license: MIT
  org.opencontainers.image.title: ignored
dependencies:
  - name: db
    version: 1.x
    repository: https://charts.test
    condition: db.enabled
`;

const expectedConfig =
  '{"name":"web","home":"https://web.test","sources":["https://src.test/web","https://src.test/other"],' +
  '"version":"1.2.3+meta","description":"A \\u003cweb\\u003e \\u0026 chart","keywords":["a","b"],' +
  '"maintainers":[{"name":"Ann","email":"ann@test"},{"name":"Bob"}],"apiVersion":"v2","appVersion":"2.0",' +
  '"annotations":{"artifacthub.io/license":"MIT","org.opencontainers.image.title":"ignored","z.last":"1"},' +
  '"dependencies":[{"name":"db","version":"1.x","repository":"https://charts.test","condition":"db.enabled"}],' +
  '"type":"application"}';

const expectedManifest = (tgz: Buffer): string =>
  '{"schemaVersion":2,' +
  `"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:${sha256Hex(expectedConfig)}","size":${Buffer.byteLength(expectedConfig)}},` +
  `"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:${sha256Hex(tgz)}","size":${tgz.length}}],` +
  '"annotations":{"artifacthub.io/license":"MIT","org.opencontainers.image.authors":"Ann (ann@test), Bob",' +
  '"org.opencontainers.image.created":"2024-05-06T07:08:09Z",' +
  '"org.opencontainers.image.description":"A \\u003cweb\\u003e \\u0026 chart",' +
  '"org.opencontainers.image.source":"https://src.test/web","org.opencontainers.image.title":"web",' +
  '"org.opencontainers.image.url":"https://web.test","org.opencontainers.image.version":"1.2.3+meta","z.last":"1"}}';

describe('buildOciChart: helm push, byte for byte', () => {
  it('config, layer and manifest exact; tag with + as _', async () => {
    const tgz = await chartTgz({
      dir: 'web',
      files: { 'Chart.yaml': chartYaml, 'values.yaml': 'a: 1\n', 'templates/x.yaml': 'kind: X\n' },
      mtime: new Date('2024-05-06T07:08:09.500Z'),
    });
    const files = await readChartArchive(tgz, 'web.tgz');
    const chart = buildOciChart(readChartMetadata(files.chartYaml, 'web.tgz'), tgz, files.chartYamlTime);
    expect(chart.config.bytes.toString('utf8')).toBe(expectedConfig);
    expect(chart.layer.bytes.equals(tgz)).toBe(true);
    expect(chart.layer.descriptor.digest).toBe(`sha256:${sha256Hex(tgz)}`);
    expect(chart.manifest.toString('utf8')).toBe(expectedManifest(tgz));
    expect(chart.digest).toBe(`sha256:${sha256Hex(chart.manifest)}`);
    expect(chart.tag).toBe('1.2.3_meta');
  });

  it('a minimal chart: only the fields it has, title/version/created annotations', async () => {
    const tgz = await chartTgz({ dir: 'm', files: { 'Chart.yaml': 'apiVersion: v1\nname: m\nversion: 0.1.0\n' } });
    const files = await readChartArchive(tgz, 'm.tgz');
    const chart = buildOciChart(readChartMetadata(files.chartYaml, 'm.tgz'), tgz, files.chartYamlTime);
    expect(chart.config.bytes.toString()).toBe('{"name":"m","version":"0.1.0","apiVersion":"v1"}');
    expect(JSON.parse(chart.manifest.toString()).annotations).toEqual({
      'org.opencontainers.image.created': '1970-01-01T00:00:00Z',
      'org.opencontainers.image.title': 'm',
      'org.opencontainers.image.version': '0.1.0',
    });
  });

  it.each([
    ['no version', 'apiVersion: v2\nname: m\n'],
    ['a name with a slash', 'apiVersion: v2\nname: a/b\nversion: 1.0.0\n'],
    ['a list for name', 'apiVersion: v2\nname: [a]\nversion: 1.0.0\n'],
  ])('Chart.yaml with %s is HELM_CHART_INVALID', (_, yaml) => {
    expect(() => readChartMetadata(Buffer.from(yaml), 'x.tgz')).toThrow(
      expect.objectContaining({ name: 'HelmError', code: 'HELM_CHART_INVALID' }),
    );
  });

  it('an archive without Chart.yaml, or not gzip, is HELM_CHART_INVALID', async () => {
    const tgz = await chartTgz({ dir: 'm', files: { 'values.yaml': 'a: 1\n' } });
    await expect(readChartArchive(tgz, 'm.tgz')).rejects.toMatchObject({ code: 'HELM_CHART_INVALID' });
    await expect(readChartArchive(Buffer.from('not gzip'), 'm.tgz')).rejects.toMatchObject({
      name: 'HelmError',
      code: 'HELM_CHART_INVALID',
    });
  });

  it('a Helm 2 chart: apiVersion v1 when missing, dependencies from requirements.yaml', async () => {
    const tgz = await chartTgz({
      dir: 'old',
      files: {
        'Chart.yaml': 'name: old\nversion: 1.0.0\n',
        'requirements.yaml': 'dependencies:\n  - name: dep\n    repository: https://charts.test\n',
      },
    });
    const files = await readChartArchive(tgz, 'old.tgz');
    const meta = readChartMetadata(files.chartYaml, 'old.tgz', files.requirementsYaml);
    expect(meta.configJson.toString()).toBe(
      '{"name":"old","version":"1.0.0","apiVersion":"v1","dependencies":[{"name":"dep","repository":"https://charts.test"}]}',
    );
  });

  it('chartTag turns every + into _', () => {
    expect(chartTag('1.0.0+a+b')).toBe('1.0.0_a_b');
  });
});
