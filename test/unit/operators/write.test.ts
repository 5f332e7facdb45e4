import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../functions/mirror/operators/fbc.js';
import { selectCatalog } from '../../../functions/mirror/operators/select.js';
import { writeCatalog } from '../../../functions/mirror/operators/write.js';
import { digestOf } from '../../../functions/oci/digest.js';
import { catalogFixtureFiles } from '../../support/catalog-fixture.js';

// The filtered catalog as opm writes it (declcfg WriteFS + WriteJSON, see write.ts).

const catalog = parseCatalog(catalogFixtureFiles('mirror.invalid:5000'));
const sha256 = (b: Buffer) => digestOf(b);

describe('writeCatalog', () => {
  const selection = selectCatalog(catalog, {
    packages: [
      { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0' }] },
      { name: 'gamma-operator' },
    ],
  });
  const files = writeCatalog(selection.catalog);

  it('writes one catalog.json per package and a root one, as opm renders', () => {
    expect([...files.keys()]).toEqual(['alpha-operator/catalog.json', 'gamma-operator/catalog.json', 'catalog.json']);
    const gamma = files.get('gamma-operator/catalog.json')!.toString();
    expect(
      gamma.startsWith(
        '{\n    "schema": "olm.package",\n    "name": "gamma-operator",\n    "defaultChannel": "stable"\n}\n{\n    "schema": "olm.channel",\n    "name": "stable",\n    "package": "gamma-operator",\n    "entries": [\n        {\n            "name": "gamma.v3.0.0"\n        }\n    ]\n}\n{\n    "schema": "olm.bundle",\n    "name": "gamma.v3.0.0",\n',
      ),
    ).toBe(true);
    expect(
      gamma.endsWith(
        '{\n    "alpha": {\n        "a": [\n            1\n        ],\n        "b": 2\n    },\n    "package": "gamma-operator",\n    "schema": "acme.example.notes",\n    "zeta": 1\n}\n',
      ),
    ).toBe(true);
    expect(files.get('alpha-operator/catalog.json')!.toString()).toContain('"description": "Alpha <operator> & co"');
    expect(files.get('catalog.json')!.toString()).toBe(
      '{\n    "name": "notes",\n    "schema": "acme.example.global",\n    "text": "root document"\n}\n',
    );
  });

  it('round-trips: parsing the written files gives the selection back', () => {
    const back = parseCatalog(files);
    const sorted = <T>(xs: readonly T[], key: (x: T) => string) =>
      [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    expect(sorted(back.bundles, (b) => b.name)).toEqual(selection.bundles);
    expect(back.packages).toEqual(selection.catalog.packages);
    expect(sorted(back.channels, (c) => `${c.package}/${c.name}`)).toEqual(
      sorted(selection.catalog.channels, (c) => `${c.package}/${c.name}`),
    );
    expect(sorted(back.others, (o) => o.schema)).toEqual(sorted(selection.catalog.others, (o) => o.schema));
    expect(back.bundles.map((b) => b.name)).toEqual([
      'alpha.v1.1.0',
      'alpha.v1.1.1',
      'alpha.v1.2.0',
      'alpha.v1.3.0',
      'gamma.v3.0.0',
    ]);
  });

  it('is deterministic', () => {
    const again = writeCatalog(
      selectCatalog(catalog, {
        packages: [
          { name: 'gamma-operator' },
          { name: 'alpha-operator', channels: [{ name: 'stable', minVersion: '1.1.0' }] },
        ],
      }).catalog,
    );
    expect([...again].map(([k, v]) => [k, sha256(v)])).toEqual([...files].map(([k, v]) => [k, sha256(v)]));
  });
});

describe('writeCatalog refuses', () => {
  it('a package name that is not a single path element', () => {
    const bad = {
      ...catalog,
      packages: [{ name: '../up', defaultChannel: '' }],
      channels: [],
      bundles: [],
      others: [],
    };
    expect(() => writeCatalog(bad)).toThrow(expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_INVALID' }));
  });
});

describe('writeCatalog deprecations', () => {
  it('writes olm.deprecations in declcfg field order, after the other documents', () => {
    const files = writeCatalog(
      selectCatalog(catalog, { packages: [{ name: 'alpha-operator', channels: [{ name: 'stable' }] }] }).catalog,
    );
    const text = files.get('alpha-operator/catalog.json')!.toString();
    expect(
      text.endsWith(
        '{\n    "schema": "olm.deprecations",\n    "package": "alpha-operator",\n    "entries": [\n        {\n            "reference": {\n                "schema": "olm.package"\n            },\n            "message": "alpha-operator is deprecated"\n        }\n    ]\n}\n',
      ),
    ).toBe(true);
  });
});
