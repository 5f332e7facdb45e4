import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  DeletePlanError,
  type DeletePlanItem,
  formatDeletePlan,
  parseDeletePlan,
} from '../../../functions/mirror/workspace/delete-plan.js';
import { type Digest, parseDigest } from '../../../functions/oci/digest.js';
import { FerryError } from '../../../functions/oci/errors.js';
import { d1, d2, d3, target } from './fixtures.js';

const item = (tag: string, digest: string, repository = 'library/nginx'): DeletePlanItem => ({
  source: `docker.io/${repository}:${tag}`,
  destination: `${target}/${repository}:${tag}`,
  digest: parseDigest(digest) as Digest,
});

/** A valid plan's text with its one item's fields replaced or added. */
function planWith(fields: Record<string, unknown>, top: Record<string, unknown> = {}): string {
  const base = {
    imageName: 'docker.io/library/nginx:1.25.0',
    imageReference: `docker://${target}/library/nginx:1.25.0`,
    type: 'generic',
    digest: d1,
  };
  return JSON.stringify({
    apiVersion: 'mirror.openshift.io/v2alpha1',
    kind: 'DeleteImageList',
    items: [{ ...base, ...fields }],
    ...top,
  });
}

function errorOf(run: () => unknown): DeletePlanError {
  try {
    run();
  } catch (err) {
    if (err instanceof DeletePlanError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

describe('formatDeletePlan (delete/delete-images.yaml)', () => {
  it('is oc-mirror’s DeleteImageList: sorted by imageReference, docker:// references, type generic, plus the digest', () => {
    const items = [item('1.25.0', d1), item('1.24.0', d2, 'library/redis'), item('1.24.0', d3)];
    expect(formatDeletePlan(items)).toBe(
      [
        'apiVersion: mirror.openshift.io/v2alpha1',
        'kind: DeleteImageList',
        'items:',
        '  - imageName: docker.io/library/nginx:1.24.0',
        '    imageReference: docker://mirror.example.com:5000/mynamespace/library/nginx:1.24.0',
        '    type: generic',
        `    digest: ${d3}`,
        '  - imageName: docker.io/library/nginx:1.25.0',
        '    imageReference: docker://mirror.example.com:5000/mynamespace/library/nginx:1.25.0',
        '    type: generic',
        `    digest: ${d1}`,
        '  - imageName: docker.io/library/redis:1.24.0',
        '    imageReference: docker://mirror.example.com:5000/mynamespace/library/redis:1.24.0',
        '    type: generic',
        `    digest: ${d2}`,
        '',
      ].join('\n'),
    );
  });

  it('lists a destination once (oc-mirror drops duplicates, first wins)', () => {
    const text = formatDeletePlan([item('1.25.0', d1), { ...item('1.25.0', d2), source: 'other' }]);
    expect(parseDeletePlan(text)).toEqual([item('1.25.0', d1)]);
  });

  it('writes an empty list as items: []', () => {
    expect(formatDeletePlan([])).toBe('apiVersion: mirror.openshift.io/v2alpha1\nkind: DeleteImageList\nitems: []\n');
    expect(parseDeletePlan(formatDeletePlan([]))).toEqual([]);
  });

  it('round-trips through the yaml parser and parseDeletePlan', () => {
    const items = [item('1.24.0', d2), item('1.25.0', d1), item('v2.0.0-rc.1', d3, 'org/app-x')];
    const text = formatDeletePlan(items);
    expect((parse(text) as { items: unknown[] }).items).toHaveLength(3);
    expect(parseDeletePlan(text)).toEqual(items);
  });

  it('quotes what YAML would misread in a source and reads it back unchanged', () => {
    const odd = [
      'yes',
      'on',
      '1:20',
      '# not a comment',
      'a: b',
      '"quoted" \'single\'',
      'two\nlines',
      ' lead',
      '@x',
      'ünï',
    ];
    const items = odd.map((source, i) => ({ ...item(`t${i}`, d1), source }));
    expect(parseDeletePlan(formatDeletePlan(items))).toEqual(items);
  });
});

describe('parseDeletePlan', () => {
  it('reads oc-mirror’s golden file once it carries the digest Ferry needs', () => {
    // tests/unit/testdata/delete/delete-images.yaml in openshift/oc-mirror (trailing space included), plus `digest`.
    const golden = [
      'apiVersion: mirror.openshift.io/v2alpha1',
      'kind: DeleteImageList',
      'items: ',
      `  - imageName: quay.io/openshift-release-dev/ocp-v4.0-art-dev@${d1}`,
      '    imageReference: docker://localhost:5000/myregistry/openshift/release:4.15.12-x86_64-agent-installer-api-server',
      '    type: ocpReleaseContent',
      `    digest: ${d2}`,
      '',
    ].join('\n');
    expect(parseDeletePlan(golden)).toEqual([
      {
        source: `quay.io/openshift-release-dev/ocp-v4.0-art-dev@${d1}`,
        destination: 'localhost:5000/myregistry/openshift/release:4.15.12-x86_64-agent-installer-api-server',
        digest: d2,
      },
    ]);
    const withoutDigest = golden.replace(/ {4}digest: .*\n/, '');
    expect(errorOf(() => parseDeletePlan(withoutDigest)).path).toBe('items[0].digest');
  });

  it('accepts JSON, a reference without docker://, and a Go writer’s items: null', () => {
    expect(parseDeletePlan(planWith({ imageReference: `${target}/library/nginx:1.25.0` }))).toEqual([
      item('1.25.0', d1),
    ]);
    expect(parseDeletePlan('apiVersion: mirror.openshift.io/v2alpha1\nkind: DeleteImageList\nitems: null\n')).toEqual(
      [],
    );
  });

  it('accepts a reference by digest when it agrees with the digest field', () => {
    const [parsed] = parseDeletePlan(planWith({ imageReference: `docker://${target}/library/nginx@${d1}` }));
    expect(parsed!.destination).toBe(`${target}/library/nginx@${d1}`);
  });

  it.each([
    ['not YAML', 'items: [\n', ''],
    ['two documents', `${planWith({})}\n---\n${planWith({})}\n`, ''],
    ['a scalar document', 'just text\n', ''],
    ['another apiVersion', planWith({}, { apiVersion: 'mirror.openshift.io/v1alpha2' }), 'apiVersion'],
    ['another kind', planWith({}, { kind: 'ImageSetConfiguration' }), 'kind'],
    ['an unknown top-level field', planWith({}, { extra: 1 }), 'extra'],
    ['items that are no list', planWith({}, { items: { a: 1 } }), 'items'],
    ['an unknown item field', planWith({ tag: 'x' }), 'items[0].tag'],
    ['an empty imageName', planWith({ imageName: '' }), 'items[0].imageName'],
    ['a missing imageReference', planWith({ imageReference: undefined }), 'items[0].imageReference'],
    ['an unknown type', planWith({ type: 'chart' }), 'items[0].type'],
    ['a malformed digest', planWith({ digest: 'sha256:abc' }), 'items[0].digest'],
    ['an uppercase digest', planWith({ digest: d1.toUpperCase() }), 'items[0].digest'],
    [
      'a reference that does not parse',
      planWith({ imageReference: 'docker://Mirror/UPPER:1' }),
      'items[0].imageReference',
    ],
    [
      'a reference without tag or digest',
      planWith({ imageReference: `docker://${target}/library/nginx` }),
      'items[0].imageReference',
    ],
    [
      'a reference whose digest differs',
      planWith({ imageReference: `${target}/library/nginx@${d2}` }),
      'items[0].digest',
    ],
  ])('refuses %s, naming the path', (_what, text, path) => {
    const err = errorOf(() => parseDeletePlan(text));
    expect(err.path).toBe(path);
    expect(err).toMatchObject({ name: 'DeletePlanError', code: 'DELETE_PLAN_INVALID', retryable: false });
    expect(err).toBeInstanceOf(FerryError);
  });

  it('refuses a destination listed twice, naming the second', () => {
    const twice = planWith({}).replace(/\[(\{.*\})\]/, '[$1,$1]');
    expect(errorOf(() => parseDeletePlan(twice)).path).toBe('items[1].imageReference');
  });

  it('names the first of several items that is wrong', () => {
    const text = formatDeletePlan([item('1', d1), item('2', d2), item('3', d3)]).replace(d2, 'sha256:nothex');
    expect(errorOf(() => parseDeletePlan(text)).path).toBe('items[1].digest');
  });

  describe('within REGISTRY[/PREFIX] (nothing outside the prefix is touched)', () => {
    const text = formatDeletePlan([item('1.25.0', d1)]);
    it.each([target, `docker://${target}`, `${target}/`, 'mirror.example.com:5000', `${target}/library`])(
      'accepts an item under %s',
      (within) => {
        expect(parseDeletePlan(text, { within })).toHaveLength(1);
      },
    );
    it.each([`${target}2`, 'mirror.example.com:5001/mynamespace', `${target}/library/nginx/x`, 'other.example.com'])(
      'refuses an item outside %s',
      (within) => {
        expect(errorOf(() => parseDeletePlan(text, { within })).path).toBe('items[0].imageReference');
      },
    );
  });
});
