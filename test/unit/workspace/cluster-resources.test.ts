import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  formatIdms,
  formatItms,
  groupMirrors,
  stringifyYaml,
} from '../../../functions/mirror/workspace/cluster-resources.js';
import { byDigest, byTag, d1, d2, d3, target } from './fixtures.js';

// oc-mirror's expectations (clusterresources_test.go, "GenerateIDMS - tags and digests",
// "GenerateITMS"): ImageDigestMirrorSet / ImageTagMirrorSet, config.openshift.io/v1, name
// "<idms|itms>-generic-0" for additional images, spec.<imageDigestMirrors|imageTagMirrors>[] of
// {source, mirrors[]}; here at repository scope, as issue 9 pins.

const mixed = [
  byTag('registry.redhat.io/ubi8/ubi', 'latest'),
  byDigest('registry.redhat.io/ubi8-minimal', d1),
  byDigest('quay.io/openshift-community-operators/cockroachdb', d2),
  byDigest('quay.io/openshift-community-operators/cockroachdb', d3),
  byTag('quay.io/kubebuilder/kube-rbac-proxy', 'v0.5.0'),
  byTag('quay.io/helmoperators/cockroachdb', 'v5.0.3'),
  byTag('quay.io/helmoperators/cockroachdb', 'v5.0.4'),
];

describe('formatIdms (cluster-resources/idms-oc-mirror.yaml)', () => {
  it('is the golden ImageDigestMirrorSet: one group per source repository, sources sorted', () => {
    expect(formatIdms(mixed)).toBe(
      [
        '---',
        'apiVersion: config.openshift.io/v1',
        'kind: ImageDigestMirrorSet',
        'metadata:',
        '  name: idms-generic-0',
        '  annotations:',
        '    createdBy: ferry',
        'spec:',
        '  imageDigestMirrors:',
        '    - source: quay.io/openshift-community-operators/cockroachdb',
        '      mirrors:',
        '        - mirror.example.com:5000/mynamespace/openshift-community-operators/cockroachdb',
        '    - source: registry.redhat.io/ubi8-minimal',
        '      mirrors:',
        '        - mirror.example.com:5000/mynamespace/ubi8-minimal',
        '',
      ].join('\n'),
    );
  });

  it('parses as one YAML document holding exactly the expected object', () => {
    const documents = parseAllDocuments(formatIdms(mixed)!);
    expect(documents).toHaveLength(1);
    expect(documents[0]!.toJS()).toEqual({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageDigestMirrorSet',
      metadata: { name: 'idms-generic-0', annotations: { createdBy: 'ferry' } },
      spec: {
        imageDigestMirrors: [
          {
            source: 'quay.io/openshift-community-operators/cockroachdb',
            mirrors: [`${target}/openshift-community-operators/cockroachdb`],
          },
          { source: 'registry.redhat.io/ubi8-minimal', mirrors: [`${target}/ubi8-minimal`] },
        ],
      },
    });
  });

  it('is undefined when no image was mirrored by digest (oc-mirror writes no file)', () => {
    expect(formatIdms(mixed.filter((e) => !e.byDigest))).toBeUndefined();
    expect(formatIdms([])).toBeUndefined();
  });
});

describe('formatItms (cluster-resources/itms-oc-mirror.yaml)', () => {
  it('is the golden ImageTagMirrorSet for the images mirrored by tag', () => {
    expect(formatItms(mixed)).toBe(
      [
        '---',
        'apiVersion: config.openshift.io/v1',
        'kind: ImageTagMirrorSet',
        'metadata:',
        '  name: itms-generic-0',
        '  annotations:',
        '    createdBy: ferry',
        'spec:',
        '  imageTagMirrors:',
        '    - source: quay.io/helmoperators/cockroachdb',
        '      mirrors:',
        '        - mirror.example.com:5000/mynamespace/helmoperators/cockroachdb',
        '    - source: quay.io/kubebuilder/kube-rbac-proxy',
        '      mirrors:',
        '        - mirror.example.com:5000/mynamespace/kubebuilder/kube-rbac-proxy',
        '    - source: registry.redhat.io/ubi8/ubi',
        '      mirrors:',
        '        - mirror.example.com:5000/mynamespace/ubi8/ubi',
        '',
      ].join('\n'),
    );
  });

  it('round-trips through the yaml parser', () => {
    const parsed: unknown = parse(formatItms([byTag('docker.io/library/nginx', '1.27.1')])!);
    expect(parsed).toEqual({
      apiVersion: 'config.openshift.io/v1',
      kind: 'ImageTagMirrorSet',
      metadata: { name: 'itms-generic-0', annotations: { createdBy: 'ferry' } },
      spec: { imageTagMirrors: [{ source: 'docker.io/library/nginx', mirrors: [`${target}/library/nginx`] }] },
    });
  });

  it('is undefined when every image was mirrored by digest', () => {
    expect(formatItms(mixed.filter((e) => e.byDigest))).toBeUndefined();
  });
});

describe('groupMirrors', () => {
  it('puts the tags of one repository into one group', () => {
    const entries = ['1.25.0', '1.26.0', '1.27.1'].map((tag) => byTag('docker.io/library/nginx', tag));
    expect(groupMirrors(entries, false)).toEqual([
      { source: 'docker.io/library/nginx', mirrors: [`${target}/library/nginx`] },
    ]);
  });

  it('lists every distinct mirror of a source, in the order first seen', () => {
    const entries = [
      { source: 'quay.io/org/app:v1', destination: 'b.example.com/org/app:v1', byDigest: false },
      { source: 'quay.io/org/app:v2', destination: 'a.example.com/org/app:v2', byDigest: false },
      { source: 'quay.io/org/app:v3', destination: 'b.example.com/org/app:v3', byDigest: false },
    ];
    expect(groupMirrors(entries, false)).toEqual([
      { source: 'quay.io/org/app', mirrors: ['b.example.com/org/app', 'a.example.com/org/app'] },
    ]);
  });

  it('gives the same document whatever order the entries come in', () => {
    const reversed = [...mixed].reverse();
    expect(formatIdms(reversed)).toBe(formatIdms(mixed));
    expect(formatItms(reversed)).toBe(formatItms(mixed));
  });

  it('sorts sources by code unit, so that upper-level repositories come first', () => {
    const entries = [byTag('quay.io/org/app-b', '1'), byTag('quay.io/org/app', '1'), byTag('quay.io/org/app/sub', '1')];
    expect(groupMirrors(entries, false).map((g) => g.source)).toEqual([
      'quay.io/org/app',
      'quay.io/org/app-b',
      'quay.io/org/app/sub',
    ]);
  });

  it('leaves blocked and failed images out: the sets point only at what was mirrored', () => {
    const entries = [
      byTag('docker.io/library/busybox', '1.36', { blocked: true }),
      byTag('docker.io/library/nginx', '1.27.1', { error: 'manifest unknown' }),
      byTag('docker.io/library/redis', '7.4'),
    ];
    expect(groupMirrors(entries, false).map((g) => g.source)).toEqual(['docker.io/library/redis']);
    expect(formatItms(entries.slice(0, 2))).toBeUndefined();
  });

  it('leaves oci: layouts out and normalises docker:// and Docker Hub names', () => {
    const entries = [
      { source: 'oci:/data/layout:v1', destination: `${target}/app:v1`, byDigest: false },
      {
        source: 'docker://index.docker.io/library/nginx:1.27',
        destination: `docker://${target}/library/nginx:1.27`,
        byDigest: false,
      },
    ];
    expect(groupMirrors(entries, false)).toEqual([
      { source: 'docker.io/library/nginx', mirrors: [`${target}/library/nginx`] },
    ]);
  });

  it('files an entry by its byDigest flag, not by the shape of its reference', () => {
    const pinnedByTag = { ...byDigest('quay.io/org/app', d1), byDigest: false };
    expect(groupMirrors([pinnedByTag], true)).toEqual([]);
    expect(groupMirrors([pinnedByTag], false)).toEqual([{ source: 'quay.io/org/app', mirrors: [`${target}/org/app`] }]);
  });
});

describe('stringifyYaml', () => {
  it('quotes what a YAML 1.1 reader (Go) would not read as a string, and never folds', () => {
    const long = `quay.io/${'a'.repeat(200)}`;
    const text = stringifyYaml({ a: 'yes', b: 'on', c: '1:20', d: '#x', e: long });
    expect(text).toBe(`a: "yes"\nb: "on"\nc: "1:20"\nd: "#x"\ne: ${long}\n`);
    expect(parse(text)).toEqual({ a: 'yes', b: 'on', c: '1:20', d: '#x', e: long });
  });
});
