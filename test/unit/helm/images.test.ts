import { describe, expect, it } from 'vitest';
import type { ChartFiles } from '../../../functions/mirror/helm/archive.js';
import { readChartMetadata } from '../../../functions/mirror/helm/chart-metadata.js';
import { evaluateImagePath, parseImagePath } from '../../../functions/mirror/helm/image-paths.js';
import { findChartImages } from '../../../functions/mirror/helm/images.js';

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
