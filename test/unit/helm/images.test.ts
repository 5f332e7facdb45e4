import { describe, expect, it } from 'vitest';
import type { ChartFiles } from '../../../functions/mirror/helm/archive.js';
import { readChartMetadata } from '../../../functions/mirror/helm/chart-metadata.js';
import { evaluateImagePath, parseImagePath } from '../../../functions/mirror/helm/image-paths.js';
import { readChartArchive } from '../../../functions/mirror/helm/archive.js';
import { findChartImages } from '../../../functions/mirror/helm/images.js';
import { chartTgz } from '../../support/helm-fixture.js';

const digest = `sha256:${'c'.repeat(64)}`;

const chartYaml = `apiVersion: v2
name: app
version: 1.0.0
appVersion: "3.1"
annotations:
  artifacthub.io/images: |
    - name: app
      image: quay.io/acme/app:3.1
    - name: broken
      image: Not/A:Ref!
`;

const values = `
image:
  registry: quay.io
  repository: acme/app
  tag: "3.1"
sidecar:
  image:
    repository: acme/sidecar
    digest: ${digest}
defaulted:
  image:
    repository: ghcr.io/acme/defaulted
initImage: busybox:1.36
jobs:
  - name: a
    image: registry.test:5000/tools/job:v1
other:
  repository: https://not-an-image.test/charts
templated:
  image: "{{ .Values.x }}"
extra:
  proxy: { repo: mirror.test/acme/proxy, version: "7" }
`;

const deployment = `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
        - name: literal
          image: "docker.io/library/nginx:1.27"
        - name: commented
          image: redis:7 # the cache
`;

const files: ChartFiles = {
  chartYaml: Buffer.from(chartYaml),
  valuesYaml: Buffer.from(values),
  templates: new Map([['templates/deployment.yaml', Buffer.from(deployment)]]),
  chartYamlTime: new Date(0),
  subcharts: [],
};

describe('findChartImages', () => {
  it('finds every image with where it was found, deduplicated, and reports what did not parse', () => {
    const meta = readChartMetadata(files.chartYaml, 'app.tgz');
    const found = findChartImages(files, meta, [
      '{.extra.proxy.repo}:{.extra.proxy.version}',
      '{.jobs[0].image}',
      '{.missing.path}',
    ]);
    expect(found.images).toEqual([
      {
        reference: 'quay.io/acme/app:3.1',
        foundIn: ['Chart.yaml annotations.artifacthub.io/images[app]', 'values.yaml .image'],
      },
      { reference: `docker.io/acme/sidecar@${digest}`, foundIn: ['values.yaml .sidecar.image'] },
      { reference: 'ghcr.io/acme/defaulted:3.1', foundIn: ['values.yaml .defaulted.image'] },
      { reference: 'docker.io/library/busybox:1.36', foundIn: ['values.yaml .initImage'] },
      {
        reference: 'registry.test:5000/tools/job:v1',
        foundIn: ['values.yaml .jobs[0].image', 'imagePaths[1] {.jobs[0].image}'],
      },
      { reference: 'docker.io/library/nginx:1.27', foundIn: ['templates/deployment.yaml:10'] },
      { reference: 'docker.io/library/redis:7', foundIn: ['templates/deployment.yaml:12'] },
      {
        reference: 'mirror.test/acme/proxy:7',
        foundIn: ['imagePaths[0] {.extra.proxy.repo}:{.extra.proxy.version}'],
      },
    ]);
    expect(found.dropped.map(({ text, foundIn }) => ({ text, foundIn }))).toEqual([
      { text: 'Not/A:Ref!', foundIn: 'Chart.yaml annotations.artifacthub.io/images[broken]' },
      { text: '{.missing.path}', foundIn: 'imagePaths[2] {.missing.path}' },
    ]);
  });

  it('a chart without values or templates names no image', () => {
    const bare: ChartFiles = {
      chartYaml: Buffer.from('apiVersion: v2\nname: b\nversion: 1.0.0\n'),
      templates: new Map(),
      chartYamlTime: new Date(0),
      subcharts: [],
    };
    expect(findChartImages(bare, readChartMetadata(bare.chartYaml, 'b'))).toEqual({ images: [], dropped: [] });
  });
});

describe('imagePaths templates', () => {
  it.each([
    ['{.image.repository}:{.image.tag}', { image: { repository: 'r/x', tag: '1' } }, 'r/x:1'],
    ["{.a['b-c'][1]}", { a: { 'b-c': ['x', 'y'] } }, 'y'],
    ['reg.test/{.name}', { name: 'n' }, 'reg.test/n'],
  ])('%s', (template, values, want) => {
    const parts = parseImagePath(template);
    expect(typeof parts).not.toBe('string');
    expect(evaluateImagePath(parts as Exclude<typeof parts, string>, values)).toEqual({ value: want });
  });

  it.each(['plain text', '{image}', '{.a', '{.a[*]}', '{range .items}'])('refuses %s', (template) => {
    expect(typeof parseImagePath(template)).toBe('string');
  });

  it('a lookup reaching a map is not a value', () => {
    const parts = parseImagePath('{.image}') as Exclude<ReturnType<typeof parseImagePath>, string>;
    expect(evaluateImagePath(parts, { image: { a: 1 } })).toEqual({ why: '.image is not a single value' });
  });
});

describe('subcharts (charts/: directories and packaged .tgz, nested)', () => {
  const chart = (name: string, extra = ''): string => `apiVersion: v2\nname: ${name}\nversion: 1.0.0\n${extra}`;
  const image = (repository: string, tag: string): string => `image:\n  repository: ${repository}\n  tag: "${tag}"\n`;

  it('finds the images of every subchart a default install enables, with the values the parent gives it', async () => {
    const exporter = await chartTgz({
      dir: 'common',
      files: {
        'Chart.yaml': chart('common'),
        'charts/exporter/Chart.yaml': chart('exporter'),
        'charts/exporter/values.yaml': image('quay.io/acme/exporter', '0.9'),
      },
    });
    const postgresql = await chartTgz({
      dir: 'postgresql',
      files: { 'Chart.yaml': chart('postgresql'), 'values.yaml': image('bitnami/postgresql', '16') },
    });
    const tgz = await chartTgz({
      dir: 'app',
      files: {
        'Chart.yaml': chart(
          'app',
          [
            'dependencies:',
            '  - {name: redis, version: 1.0.0, repository: "", condition: redis.enabled}',
            '  - {name: postgresql, version: 1.0.0, repository: "", condition: "postgresql.enabled,db.enabled"}',
            '  - {name: worker, version: 1.0.0, repository: "", alias: fast}',
            '  - {name: worker, version: 1.0.0, repository: "", alias: slow, condition: slow.enabled}',
            '  - {name: extras, version: 1.0.0, repository: "", tags: [extras]}',
            '  - {name: common, version: 1.0.0, repository: ""}',
            '',
          ].join('\n'),
        ),
        'values.yaml': [
          image('acme/app', '1.0'),
          'redis:',
          '  image:',
          '    tag: "7.4"',
          'postgresql:',
          '  enabled: false',
          '  image: {repository: bitnami/postgresql, tag: "15"}',
          'fast:',
          '  image: {tag: "2"}',
          'slow:',
          '  enabled: false',
          'tags:',
          '  extras: false',
          '',
        ].join('\n'),
        'charts/redis/Chart.yaml': chart('redis'),
        'charts/redis/values.yaml': `enabled: true\n${image('bitnami/redis', '7.2')}`,
        'charts/redis/templates/sidecar.yaml': 'containers:\n  - image: busybox:1.36\n',
        'charts/postgresql-1.0.0.tgz': postgresql,
        'charts/worker/Chart.yaml': chart('worker'),
        'charts/worker/values.yaml': image('acme/worker', '1'),
        'charts/extras/Chart.yaml': chart('extras'),
        'charts/extras/values.yaml': image('acme/extras', '1'),
        'charts/common-1.0.0.tgz': exporter,
      },
    });
    const files = await readChartArchive(tgz, 'app.tgz');
    const found = findChartImages(files, readChartMetadata(files.chartYaml, 'app.tgz'));

    expect(found.images).toEqual([
      { reference: 'docker.io/acme/app:1.0', foundIn: ['values.yaml .image'] },
      {
        reference: 'quay.io/acme/exporter:0.9',
        foundIn: ['charts/common-1.0.0.tgz/charts/exporter/values.yaml .image'],
      },
      { reference: 'docker.io/bitnami/redis:7.4', foundIn: ['charts/redis/values.yaml .image'] },
      { reference: 'docker.io/library/busybox:1.36', foundIn: ['charts/redis/templates/sidecar.yaml:2'] },
      { reference: 'docker.io/acme/worker:2', foundIn: ['charts/worker/values.yaml .image'] },
    ]);
    expect(found.dropped).toEqual([]);
  });

  it('reads no deeper than five levels, and the caps hold across all packaged subcharts together', async () => {
    let nested = await chartTgz({
      dir: 'c6',
      files: { 'Chart.yaml': chart('c6'), 'values.yaml': image('acme/too-deep', '1') },
    });
    for (let level = 5; level >= 0; level--)
      nested = await chartTgz({
        dir: `c${level}`,
        files: {
          'Chart.yaml': chart(`c${level}`),
          'values.yaml': image(`acme/level${level}`, '1'),
          [`charts/c${level + 1}-1.0.0.tgz`]: nested,
        },
      });
    const files = await readChartArchive(nested, 'c0.tgz');
    const found = findChartImages(files, readChartMetadata(files.chartYaml, 'c0.tgz'));
    expect(found.images.map((i) => i.reference)).toEqual([0, 1, 2, 3, 4, 5].map((l) => `docker.io/acme/level${l}:1`));

    const big = 'x'.repeat(4 * 1024 * 1024);
    const heavy = await chartTgz({ dir: 'h', files: { 'Chart.yaml': chart('h'), 'templates/big.yaml': big } });
    const many = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`charts/h${i}-1.0.0.tgz`, heavy] as const));
    const bomb = await chartTgz({ dir: 'top', files: { 'Chart.yaml': chart('top'), ...many } });
    await expect(readChartArchive(bomb, 'top.tgz')).rejects.toMatchObject({ code: 'HELM_TOO_LARGE' });
  });
});
