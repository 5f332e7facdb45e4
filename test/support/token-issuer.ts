import { execFileSync } from 'node:child_process';
import { randomUUID, sign } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenIssuer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certFile: string;
  /** Token requests seen, for assertions on caching. */
  readonly requests: { scope: string[]; user: string | undefined }[];
  stop(): Promise<void>;
}

/**
 * A small Docker token server: ES256 JWTs with the self-signed cert in `x5c`. Users with the
 * right password get what they ask for; anonymous callers get pull on `public/*` only.
 */
export async function startTokenIssuer(users: Record<string, string>): Promise<TokenIssuer> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '2',
      '-subj',
      '/CN=ferry-test-issuer',
    ],
    { stdio: 'ignore' },
  );
  const key = readFileSync(keyFile);
  const certDer = execFileSync('openssl', ['x509', '-in', certFile, '-outform', 'DER']);
  const service = 'ferry-test-registry';
  const issuer = 'ferry-test-issuer';
  const requests: TokenIssuer['requests'] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    let user: string | undefined;
    const header = req.headers.authorization;
    if (header?.startsWith('Basic ')) {
      const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString().split(':');
      if (name === undefined || users[name] !== rest.join(':')) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}');
        return;
      }
      user = name;
    }
    requests.push({ scope: scopes, user });
    const access = scopes.flatMap((scope) => {
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) return [];
      const granted = user
        ? actions.split(',')
        : name.startsWith('public/')
          ? actions.split(',').filter((a) => a === 'pull')
          : [];
      return granted.length > 0 ? [{ type, name, actions: granted }] : [];
    });
    const now = Math.floor(Date.now() / 1000);
    const b64 = (v: object | Buffer): string =>
      Buffer.from(v instanceof Buffer ? v : JSON.stringify(v)).toString('base64url');
    const head = b64({ alg: 'ES256', typ: 'JWT', x5c: [certDer.toString('base64')] });
    const body = b64({
      iss: issuer,
      aud: service,
      sub: user ?? '',
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    });
    const signature = sign('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' });
    const token = `${head}.${body}.${signature.toString('base64url')}`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    requests,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
