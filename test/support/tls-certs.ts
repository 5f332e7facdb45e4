import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  /** The test CA, for `--ca-file`. */
  readonly caFile: string;
  /** A server certificate for 127.0.0.1 and localhost (or the names asked for), signed by the CA. */
  readonly certFile: string;
  readonly keyFile: string;
}

/**
 * A throwaway CA and a server certificate it signed, made with openssl: by default for loopback
 * (subjectAltName IP:127.0.0.1, DNS:localhost) in a new temp dir — loopback registries skip
 * verification unless the client is told to verify them (`--tls-verify HOST[:PORT]`), so TLS tests
 * stay on loopback — or, with `names`, for those DNS names (registries inside a test namespace),
 * with the files in `dir`.
 */
export function makeCertificates(options: { dir?: string; names?: readonly string[] } = {}): TestCertificates {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'ferry-tls-'));
  const names = options.names ?? [];
  const subjectAltName = names.length > 0 ? names.map((n) => `DNS:${n}`).join(',') : 'IP:127.0.0.1,DNS:localhost';
  const file = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const run = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  run([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=ferry-test-ca',
  ]);
  run([
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    `/CN=${names[0] ?? 'ferry-test-registry'}`,
  ]);
  writeFileSync(
    file('ext.cnf'),
    `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  run([
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('ext.cnf'),
  ]);
  return { caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server.key') };
}
