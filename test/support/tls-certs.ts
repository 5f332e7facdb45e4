import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The test CA, for `--ca-file`. */
  readonly caFile: string;
  /** A server certificate for `address`, signed by the CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * This machine's first non-loopback IPv4 address. TLS verification is tested there: loopback
 * registries skip verification, as Docker's do.
 */
export function nonLoopbackAddress(): string {
  const address = Object.values(networkInterfaces()).flat().find((a) => a !== undefined && a.family === 'IPv4' && !a.internal)?.address;
  if (address === undefined) throw new Error('TLS tests need a non-loopback IPv4 address on this machine (none found)');
  return address;
}

/** A throwaway CA and a server certificate for `address` (subjectAltName IP), made with openssl. */
export function makeCertificates(address: string): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-tls-'));
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  run(['req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=ferry-test-ca']);
  run(['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=ferry-test-registry']);
  writeFileSync(file('ext.cnf'), `subjectAltName=IP:${address}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  run(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.pem'), '-days', '2', '-extfile', file('ext.cnf')]);
  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}
