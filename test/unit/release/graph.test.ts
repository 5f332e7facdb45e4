import { describe, expect, it } from 'vitest';
import {
  defaultUpdateGraphUrl,
  fetchGraph,
  graphUrl,
  parseGraph,
  selectReleases,
} from '../../../functions/mirror/release/graph.js';

const payload = (n: number): string =>
  `quay.io/openshift-release-dev/ocp-release@sha256:${n.toString(16).padStart(64, '0')}`;
// Unsorted, as the update service sends them.
const versions = ['4.17.3', '4.17.1', '4.17.10', '4.17.2', '4.17.0-rc.1', '4.17.4'];
const graph = parseGraph(
  {
    nodes: versions.map((version, i) => ({ version, payload: payload(i + 1), metadata: { a: 'b' } })),
    edges: [
      [1, 3],
      [3, 0],
    ],
  },
  'test',
);

describe('selectReleases', () => {
  it.each([
    ['no range: the head', {}, ['4.17.10']],
    ['min only: min..head', { minVersion: '4.17.3' }, ['4.17.3', '4.17.4', '4.17.10']],
    ['max only: the lowest..max', { maxVersion: '4.17.2' }, ['4.17.0-rc.1', '4.17.1', '4.17.2']],
    ['min..max, inclusive', { minVersion: '4.17.2', maxVersion: '4.17.4' }, ['4.17.2', '4.17.3', '4.17.4']],
    ['min = max', { minVersion: '4.17.3', maxVersion: '4.17.3' }, ['4.17.3']],
    [
      'bounds not in the graph',
      { minVersion: '4.17.1-0', maxVersion: '4.17.5' },
      ['4.17.1', '4.17.2', '4.17.3', '4.17.4'],
    ],
  ])('%s', (_, range, expected) => {
    expect(selectReleases(graph, range, 'channel').map((n) => n.version)).toEqual(expected);
  });

  it('returns each payload once and refuses an empty selection', () => {
    const twice = parseGraph(
      {
        nodes: [
          { version: '4.17.1', payload: payload(1) },
          { version: '4.17.2', payload: payload(1) },
        ],
        edges: [],
      },
      'x',
    );
    expect(selectReleases(twice, { minVersion: '4.17.0' }, 'c')).toEqual([{ version: '4.17.1', payload: payload(1) }]);
    for (const [g, range] of [
      [graph, { minVersion: '4.18.0' }],
      [parseGraph({ nodes: [], edges: [] }, 'x'), {}],
    ] as const) {
      expect(() => selectReleases(g, range, 'c')).toThrow(expect.objectContaining({ code: 'UPDATE_GRAPH_EMPTY' }));
    }
  });
});

describe('parseGraph', () => {
  it.each([
    ['a payload by tag', { nodes: [{ version: '4.17.1', payload: 'quay.io/a/b:4.17.1' }], edges: [] }],
    ['a version that is not semver', { nodes: [{ version: '4.17', payload: payload(1) }], edges: [] }],
    ['an edge past the nodes', { nodes: [{ version: '4.17.1', payload: payload(1) }], edges: [[0, 1]] }],
    ['a negative edge', { nodes: [{ version: '4.17.1', payload: payload(1) }], edges: [[-1, 0]] }],
    ['no nodes', { edges: [] }],
    ['not an object', 'html'],
  ])('refuses %s (UPDATE_GRAPH_INVALID)', (_, value) => {
    expect(() => parseGraph(value, 'x')).toThrow(
      expect.objectContaining({ name: 'ReleaseError', code: 'UPDATE_GRAPH_INVALID' }),
    );
  });
});

describe('fetchGraph', () => {
  it('asks <url>?channel=&arch=, keeping the URL’s own query', async () => {
    const asked: string[] = [];
    const getter = {
      getJson: async (url: string) => {
        asked.push(url);
        return { nodes: [{ version: '4.17.1', payload: payload(1) }], edges: [] };
      },
    };
    await fetchGraph(getter, defaultUpdateGraphUrl, 'stable-4.17', 'amd64');
    await fetchGraph(getter, 'http://127.0.0.1:9/graph?id=x', 'fast-4.17', 'multi');
    expect(asked).toEqual([
      'https://api.openshift.com/api/upgrades_info/v1/graph?channel=stable-4.17&arch=amd64',
      'http://127.0.0.1:9/graph?id=x&channel=fast-4.17&arch=multi',
    ]);
    expect(graphUrl(defaultUpdateGraphUrl, 'eus-4.16', 'arm64')).toContain('channel=eus-4.16&arch=arm64');
  });
});
