import { describe, expect, it } from 'vitest';
import { channelGraph } from '../../../functions/mirror/operators/channel-graph.js';
import { CatalogError } from '../../../functions/mirror/operators/errors.js';
import { parseCatalog } from '../../../functions/mirror/operators/fbc.js';
import type { CatalogFilter } from '../../../functions/mirror/operators/filter.js';
import { images } from '../../../functions/mirror/operators/images.js';
import { type SelectOptions, selectCatalog } from '../../../functions/mirror/operators/select.js';
import { catalogFixtureFiles, fakeDigest, proxyImage } from '../../support/catalog-fixture.js';

// The rules of oc-mirror v2's selection (catalog-filter mirror-filter.go / channel.go, see
// select.ts) on the fixture: alpha stable 1.0.0 ← 1.1.0 ← 1.2.0 ← 1.3.0 with 1.1.1 skipped by
// 1.2.0; alpha fast 1.3.0 ← 2.0.0; beta 0.1.0 ← 0.2.0; gamma 3.0.0.

const host = 'mirror.invalid:5000';
const catalog = parseCatalog(catalogFixtureFiles(host));
const alpha = (...versions: string[]) => versions.map((v) => `alpha.v${v}`);

function names(filter: CatalogFilter, options?: SelectOptions): string[] {
  return selectCatalog(catalog, filter, options).bundles.map((b) => b.name);
}

function failure(filter: CatalogFilter): [string, string, string] {
  try {
    selectCatalog(catalog, filter);
  } catch (error) {
    if (error instanceof CatalogError) return [error.name, error.code, error.where];
    throw error;
  }
  throw new Error('expected a CatalogError');
}

describe("selectCatalog: the rules (the issue's pinned reading: unlisted channels → the default channel)", () => {
  it.each<[string, CatalogFilter, string[]]>([
    ["no packages: each package's default-channel head", {}, [...alpha('1.3.0'), 'beta.v0.2.0', 'gamma.v3.0.0']],
    [
      'full without packages: everything',
      { full: true },
      [...alpha('1.0.0', '1.1.0', '1.1.1', '1.2.0', '1.3.0', '2.0.0'), 'beta.v0.1.0', 'beta.v0.2.0', 'gamma.v3.0.0'],
    ],
    [
      "a package without channels: its default channel's head",
      { packages: [{ name: 'alpha-operator' }] },
      alpha('1.3.0'),
    ],
    ['a channel: its head', { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable' }] }] }, alpha('1.3.0')],
    [
      'minVersion: from min to the head along replaces, with the skipped bundles in range',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0' }] }] },
      alpha('1.1.0', '1.1.1', '1.2.0', '1.3.0'),
    ],
    [
      'min..max: the range, the head not included',
      {
        packages: [
          { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0', maxVersion: '1.2.0' }] },
        ],
      },
      alpha('1.1.0', '1.1.1', '1.2.0'),
    ],
    [
      'maxVersion only: up to max',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable', maxVersion: '1.1.0' }] }] },
      alpha('1.0.0', '1.1.0'),
    ],
    [
      'a package range without channels applies to its default channel',
      { packages: [{ name: 'alpha-operator', minVersion: '1.1.0' }] },
      alpha('1.1.0', '1.1.1', '1.2.0', '1.3.0'),
    ],
    [
      'listing channels selects the head of each',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable' }, { name: 'fast' }] }] },
      alpha('1.3.0', '2.0.0'),
    ],
    [
      'a range that empties a channel other than the default drops that channel',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable' }, { name: 'fast', maxVersion: '1.0.0' }] }] },
      alpha('1.3.0'),
    ],
    [
      'full with a package: all its bundles',
      { full: true, packages: [{ name: 'beta-operator' }] },
      ['beta.v0.1.0', 'beta.v0.2.0'],
    ],
    [
      'full with a channel and a new default channel: all the channel bundles',
      { full: true, packages: [{ name: 'alpha-operator', defaultChannel: 'fast', channels: [{ name: 'fast' }] }] },
      alpha('1.3.0', '2.0.0'),
    ],
    [
      'two packages',
      {
        packages: [
          { name: 'gamma-operator' },
          { name: 'beta-operator', channels: [{ name: 'stable-v1', minVersion: '0.1.0' }] },
        ],
      },
      ['beta.v0.1.0', 'beta.v0.2.0', 'gamma.v3.0.0'],
    ],
  ])('%s', (_rule, filter, expected) => {
    expect(names(filter)).toEqual(expected);
  });

  it("heads: 'every-channel' is oc-mirror v2's reading: the head of every unlisted channel", () => {
    const every = { heads: 'every-channel' } as const;
    expect(names({}, every)).toEqual([...alpha('1.3.0', '2.0.0'), 'beta.v0.2.0', 'gamma.v3.0.0']);
    expect(names({ packages: [{ name: 'alpha-operator' }] }, every)).toEqual(alpha('1.3.0', '2.0.0'));
    expect(names({ packages: [{ name: 'alpha-operator', minVersion: '1.3.0' }] }, every)).toEqual(
      alpha('1.3.0', '2.0.0'),
    );
    expect(
      names({ packages: [{ name: 'alpha-operator', channels: [{ name: 'fast' }], defaultChannel: 'fast' }] }, every),
    ).toEqual(alpha('2.0.0'));
  });

  it('full without packages is the catalog as it is, not to be rebuilt', () => {
    const selection = selectCatalog(catalog, { full: true });
    expect(selection.whole).toBe(true);
    expect(selection.catalog).toBe(catalog);
    expect(selectCatalog(catalog, {}).whole).toBe(false);
  });

  it('rewrites the default channel to the one configured when the default is not selected', () => {
    const selection = selectCatalog(catalog, {
      packages: [{ name: 'alpha-operator', defaultChannel: 'fast', channels: [{ name: 'fast' }] }],
    });
    expect(selection.catalog.packages).toEqual([
      { name: 'alpha-operator', defaultChannel: 'fast', description: 'Alpha <operator> & co' },
    ]);
    expect(selection.catalog.channels.map((c) => [c.name, c.entries])).toEqual([
      ['fast', [{ name: 'alpha.v2.0.0', replaces: 'alpha.v1.3.0' }]],
    ]);
  });

  it('filters the channels, entries and other documents with the bundles', () => {
    const selection = selectCatalog(catalog, {
      packages: [{ name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0', maxVersion: '1.2.0' }] }],
    });
    expect(selection.catalog.channels).toHaveLength(1);
    expect(selection.catalog.channels[0]!.entries.map((e) => e.name)).toEqual(alpha('1.1.0', '1.1.1', '1.2.0'));
    const deprecations = selection.catalog.others.find((o) => o.schema === 'olm.deprecations')!;
    // alpha.v1.0.0 is no longer there and neither is the fast channel: only the package entry stays.
    expect(deprecations.blob.entries).toEqual([
      { reference: { schema: 'olm.package' }, message: 'alpha-operator is deprecated' },
    ]);
    expect(selection.catalog.others.map((o) => o.schema)).toEqual(['olm.deprecations', 'acme.example.global']);
  });

  it.each<[string, CatalogFilter, string]>([
    [
      'the default channel filtered out without a new one',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'fast' }] }] },
      'alpha-operator',
    ],
    [
      'a default channel override that is not selected',
      { packages: [{ name: 'alpha-operator', defaultChannel: 'fast', channels: [{ name: 'stable' }] }] },
      'alpha-operator',
    ],
    [
      'a range that empties the default channel',
      { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '5.0.0' }] }] },
      'alpha-operator/stable',
    ],
    [
      "a range that empties the catalog's default channel, even with another default configured",
      {
        packages: [
          {
            name: 'alpha-operator',
            defaultChannel: 'fast',
            channels: [{ name: 'stable', minVersion: '5.0.0' }, { name: 'fast' }],
          },
        ],
      },
      'alpha-operator/stable',
    ],
    [
      'full with a range',
      { full: true, packages: [{ name: 'beta-operator', minVersion: '0.1.0' }] },
      'packages[0] (beta-operator)',
    ],
    [
      'package and channel ranges together',
      {
        packages: [
          { name: 'alpha-operator', minVersion: '1.0.0', channels: [{ name: 'stable', maxVersion: '1.2.0' }] },
        ],
      },
      'packages[0] (alpha-operator).channels[0] (stable)',
    ],
    [
      'a bound that is not semver',
      { packages: [{ name: 'alpha-operator', minVersion: 'one' }] },
      'packages[0] (alpha-operator)',
    ],
    ['an unknown package', { packages: [{ name: 'delta-operator' }] }, 'delta-operator'],
    [
      'an unknown channel',
      { packages: [{ name: 'beta-operator', channels: [{ name: 'nightly' }] }] },
      'beta-operator/nightly',
    ],
    [
      'an unknown field',
      { packages: [{ name: 'beta-operator', channel: 'x' }] } as unknown as CatalogFilter,
      'packages.0',
    ],
  ])('refuses %s', (_case, filter, where) => {
    expect(failure(filter)).toEqual(['CatalogError', 'CATALOG_FILTER_INVALID', where]);
  });

  it('refuses a channel with two heads or a cycle, and a bundle without a semver version', () => {
    const broken = (doc: object) =>
      parseCatalog(
        new Map([
          ['p/catalog.json', Buffer.from(JSON.stringify({ schema: 'olm.package', name: 'p', defaultChannel: 'c' }))],
          ['p/channel.json', Buffer.from(JSON.stringify({ schema: 'olm.channel', name: 'c', package: 'p', ...doc }))],
          ...['a', 'b'].map((n): [string, Buffer] => [
            `p/${n}.json`,
            Buffer.from(
              JSON.stringify({
                schema: 'olm.bundle',
                name: n,
                package: 'p',
                image: n,
                properties: [
                  { type: 'olm.package', value: { packageName: 'p', version: n === 'a' ? '1.0.0' : '2.0.0' } },
                ],
              }),
            ),
          ]),
        ]),
      );
    const code = (c: ReturnType<typeof parseCatalog>) => {
      try {
        selectCatalog(c, {});
      } catch (error) {
        return error instanceof CatalogError ? [error.code, error.where] : error;
      }
      return undefined;
    };
    expect(code(broken({ entries: [{ name: 'a' }, { name: 'b' }] }))).toEqual(['CATALOG_INVALID', 'p/c']);
    expect(
      code(
        broken({
          entries: [
            { name: 'a', replaces: 'b' },
            { name: 'b', replaces: 'a' },
          ],
        }),
      ),
    ).toEqual(['CATALOG_INVALID', 'p/c']);
    const unversioned = {
      ...catalog,
      bundles: catalog.bundles.map((b) => (b.name === 'gamma.v3.0.0' ? { ...b, version: 'v3.0.0' } : b)),
    };
    expect(code(unversioned)).toEqual(['CATALOG_INVALID', 'gamma-operator/gamma.v3.0.0']);
  });
});

describe('images', () => {
  it('lists every bundle and related image once, sorted, with where each came from', () => {
    const list = images(selectCatalog(catalog, { packages: [{ name: 'beta-operator' }, { name: 'gamma-operator' }] }));
    const beta = `${host}/beta-operator/bundle@${fakeDigest('beta.v0.2.0-bundle')}`;
    expect(list.map((i) => i.image)).toEqual(
      [
        beta,
        `${host}/beta-operator/operator@${fakeDigest('beta.v0.2.0-operator')}`,
        `${host}/gamma-operator/bundle@${fakeDigest('gamma.v3.0.0-bundle')}`,
        `${host}/gamma-operator/operator@${fakeDigest('gamma.v3.0.0-operator')}`,
        proxyImage(host),
      ].sort(),
    );
    expect(list.find((i) => i.image === beta)!.origins).toEqual([
      { package: 'beta-operator', bundle: 'beta.v0.2.0', kind: 'bundle' },
      { package: 'beta-operator', bundle: 'beta.v0.2.0', kind: 'related' },
    ]);
    expect(list.find((i) => i.image === proxyImage(host))!.origins).toEqual([
      { package: 'beta-operator', bundle: 'beta.v0.2.0', kind: 'related', name: 'proxy' },
    ]);
  });

  it('deduplicates an image named by bundles of two packages', () => {
    const list = images(selectCatalog(catalog, {}, { heads: 'every-channel' }));
    const proxy = list.filter((i) => i.image === proxyImage(host));
    expect(proxy).toHaveLength(1);
    expect(proxy[0]!.origins.map((o) => o.bundle)).toEqual(['alpha.v1.3.0', 'alpha.v2.0.0', 'beta.v0.2.0']);
    expect(list).toHaveLength(4 * 2 + 1);
  });
});

describe('channelGraph ranges with prereleases (Masterminds semver, as catalog-filter)', () => {
  const channel = {
    name: 'c',
    package: 'p',
    entries: [{ name: 'a' }, { name: 'b', replaces: 'a' }, { name: 'c', replaces: 'b' }],
  };
  const versions = new Map([
    ['a', '1.0.0-mas'],
    ['b', '1.1.0-mas'],
    ['c', '1.2.0'],
  ]);
  it.each([
    ['>=1.0.0-mas', ['a', 'b', 'c']],
    ['>=1.0.0', ['c']],
    ['>=1.0.0-mas <=1.2.0', ['c']],
    ['>=1.1.0-mas', ['b', 'c']],
  ])('%s keeps %j', (range, expected) => {
    expect([...channelGraph(channel).inRange(range, versions)].sort()).toEqual(expected);
  });
});
