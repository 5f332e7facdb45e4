import { describe, expect, it } from 'vitest';
import { CatalogError } from '../../../functions/mirror/operators/errors.js';
import { defaultCatalogLimits, parseCatalog } from '../../../functions/mirror/operators/fbc.js';
import { catalogFixtureFiles, fakeDigest, proxyImage } from '../../support/catalog-fixture.js';

const host = 'mirror.invalid:5000';

function thrown(fn: () => unknown): CatalogError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CatalogError) return error;
    throw error;
  }
  throw new Error('expected a CatalogError');
}

const files = (entries: Record<string, string>) =>
  new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

describe('parseCatalog', () => {
  const catalog = parseCatalog(catalogFixtureFiles(host));

  it('reads concatenated JSON, YAML documents and single JSON files, skipping .indexignore', () => {
    expect(catalog.packages.map((p) => [p.name, p.defaultChannel])).toEqual([
      ['alpha-operator', 'stable'],
      ['beta-operator', 'stable-v1'],
      ['gamma-operator', 'stable'],
    ]);
    expect(catalog.channels.map((c) => `${c.package}/${c.name}:${c.entries.length}`)).toEqual([
      'alpha-operator/stable:5',
      'alpha-operator/fast:2',
      'beta-operator/stable-v1:2',
      'gamma-operator/stable:1',
    ]);
    expect(catalog.bundles).toHaveLength(9);
    expect(catalog.others.map((o) => [o.schema, o.package ?? ''])).toEqual([
      ['olm.deprecations', 'alpha-operator'],
      ['acme.example.global', ''],
      ['acme.example.notes', 'gamma-operator'],
    ]);
  });

  it('models channel entries with replaces, skips and skipRange', () => {
    const stable = catalog.channels.find((c) => c.name === 'stable' && c.package === 'alpha-operator')!;
    expect(stable.entries[3]).toEqual({
      name: 'alpha.v1.2.0',
      replaces: 'alpha.v1.1.0',
      skips: ['alpha.v1.1.1'],
      skipRange: '>=1.0.0 <1.2.0',
    });
    expect(stable.entries[0]).toEqual({ name: 'alpha.v1.0.0' });
    const beta = catalog.channels.find((c) => c.package === 'beta-operator')!;
    expect(beta.entries[1]).toEqual({ name: 'beta.v0.2.0', replaces: 'beta.v0.1.0', skipRange: '>=0.0.1 <0.2.0' });
  });

  it('takes the bundle version from the olm.package property and keeps related images and properties', () => {
    const b = catalog.bundles.find((x) => x.name === 'beta.v0.2.0')!;
    expect(b.version).toBe('0.2.0');
    expect(b.package).toBe('beta-operator');
    expect(b.image).toBe(`${host}/beta-operator/bundle@${fakeDigest('beta.v0.2.0-bundle')}`);
    expect(b.relatedImages).toEqual([
      { image: b.image },
      { name: 'operator', image: `${host}/beta-operator/operator@${fakeDigest('beta.v0.2.0-operator')}` },
      { name: 'proxy', image: proxyImage(host) },
    ]);
    expect(b.properties.map((p) => p.type)).toEqual(['olm.package', 'olm.gvk', 'olm.csv.metadata']);
    expect(b.properties[1]!.value).toEqual({ group: 'beta.example.com', kind: 'Thing', version: 'v1' });
  });

  it('keeps documents of other schemas verbatim', () => {
    const notes = catalog.others.find((o) => o.schema === 'acme.example.notes')!;
    expect(notes.blob).toEqual({
      schema: 'acme.example.notes',
      package: 'gamma-operator',
      zeta: 1,
      alpha: { b: 2, a: [1] },
    });
    expect(catalog.others.find((o) => o.schema === 'acme.example.global')!.name).toBe('notes');
  });

  it('names the file and document of a JSON document that does not parse', () => {
    const e = thrown(() =>
      parseCatalog(files({ 'x/catalog.json': '{"schema":"olm.package","name":"x"}\n{"schema": }' })),
    );
    expect([e.name, e.code, e.where]).toEqual(['CatalogError', 'CATALOG_INVALID', 'x/catalog.json#2']);
  });

  it('names the file and document of a YAML document that does not parse', () => {
    const e = thrown(() => parseCatalog(files({ 'y/catalog.yaml': 'schema: olm.package\nname: y\n---\nschema: [\n' })));
    expect([e.code, e.where]).toEqual(['CATALOG_INVALID', 'y/catalog.yaml#2']);
  });

  it('refuses a document without schema, and one that does not fit its schema', () => {
    expect(thrown(() => parseCatalog(files({ 'a.yaml': 'name: a\n' }))).where).toBe('a.yaml#1');
    const e = thrown(() =>
      parseCatalog(files({ 'b.json': '{"schema":"olm.channel","name":"c","package":"b","entries":[{"name":3}]}' })),
    );
    expect([e.code, e.where]).toEqual(['CATALOG_INVALID', 'b.json#1']);
    expect(e.message).toContain('entries.0.name');
    const p = thrown(() =>
      parseCatalog(
        files({
          'c.json': '{"schema":"olm.bundle","name":"b","package":"c","properties":[{"type":"olm.package","value":{}}]}',
        }),
      ),
    );
    expect(p.where).toBe('c.json#1 olm.package property');
  });

  it('refuses stray text between JSON documents', () => {
    const e = thrown(() => parseCatalog(files({ 'd.json': '{"schema":"x"} oops' })));
    expect([e.code, e.where]).toEqual(['CATALOG_INVALID', 'd.json#2']);
  });

  it('enforces the limits', () => {
    const two = files({ 'a.json': '{"schema":"x"}{"schema":"y"}{"schema":"z"}' });
    expect(thrown(() => parseCatalog(two, { ...defaultCatalogLimits, maxDocuments: 2 })).code).toBe('CATALOG_LIMIT');
    expect(thrown(() => parseCatalog(two, { ...defaultCatalogLimits, maxFileBytes: 10 })).code).toBe('CATALOG_LIMIT');
    expect(thrown(() => parseCatalog(two, { ...defaultCatalogLimits, maxFiles: 0 })).code).toBe('CATALOG_LIMIT');
    expect(parseCatalog(two, { ...defaultCatalogLimits, maxDocuments: 3 }).others).toHaveLength(3);
  });
});
