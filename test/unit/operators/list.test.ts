import { describe, expect, it } from 'vitest';
import { parseCatalog } from '../../../functions/mirror/operators/fbc.js';
import { formatChannelVersions, formatPackage, formatPackages } from '../../../functions/mirror/operators/list.js';
import { catalogFixtureFiles } from '../../support/catalog-fixture.js';

// `oc-mirror list operators` (internal/pkg/cli/list/operators.go) through text/tabwriter(0, 4, 2, ' ').

const catalog = parseCatalog(catalogFixtureFiles('mirror.invalid:5000'));

describe('list operators', () => {
  it('--catalog: packages with display name and default channel', () => {
    expect(formatPackages(catalog)).toBe(
      [
        'NAME            DISPLAY NAME  DEFAULT CHANNEL',
        'alpha-operator  Alpha 2.0.0   stable',
        'beta-operator   Beta          stable-v1',
        'gamma-operator  Gamma         stable',
        '',
      ].join('\n'),
    );
  });

  it('--package: the package, then each channel and its head', () => {
    expect(formatPackage(catalog, 'alpha-operator')).toBe(
      [
        'NAME            DISPLAY NAME  DEFAULT CHANNEL',
        'alpha-operator  Alpha 2.0.0   stable',
        '',
        'PACKAGE         CHANNEL  HEAD',
        'alpha-operator  fast     alpha.v2.0.0',
        'alpha-operator  stable   alpha.v1.3.0',
        '',
      ].join('\n'),
    );
  });

  it('--channel: the versions of the channel, by bundle name', () => {
    expect(formatChannelVersions(catalog, 'alpha-operator', 'stable')).toBe(
      'VERSIONS\n1.0.0\n1.1.0\n1.1.1\n1.2.0\n1.3.0\n',
    );
  });

  it('prints a broken channel head as oc-mirror does, and refuses unknown names', () => {
    const broken = {
      ...catalog,
      channels: catalog.channels.map((c) =>
        c.package === 'beta-operator' ? { ...c, entries: [{ name: 'beta.v0.1.0' }, { name: 'beta.v0.2.0' }] } : c,
      ),
    };
    expect(formatPackage(broken, 'beta-operator').split('\n')[4]).toBe(
      'beta-operator  stable-v1  ERROR: multiple channel heads found in graph: beta.v0.1.0, beta.v0.2.0',
    );
    expect(() => formatPackage(catalog, 'nope')).toThrow(
      expect.objectContaining({ name: 'CatalogError', code: 'CATALOG_FILTER_INVALID' }),
    );
    expect(() => formatChannelVersions(catalog, 'alpha-operator', 'nope')).toThrow(
      expect.objectContaining({ name: 'CatalogError' }),
    );
  });
});
