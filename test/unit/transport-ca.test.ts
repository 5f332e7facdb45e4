import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { withPublicRoots } from '../../functions/oci/transport.js';

const testCa = '-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----';

describe('--ca-file', () => {
  it('adds its CAs to the public roots instead of replacing them (Docker Hub stays trusted beside a private registry)', () => {
    const bundle = withPublicRoots(Buffer.from(testCa));
    expect(rootCertificates.length).toBeGreaterThan(50);
    for (const root of rootCertificates) expect(bundle).toContain(root);
    expect(bundle.endsWith(testCa)).toBe(true);
  });
});
