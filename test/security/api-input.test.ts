import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../functions/local/serve.js';
import { api, startService } from '../support/service.js';

const ecrHost = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
/**
 * Every registry name the cases use resolves to a closed loopback port, so that a case the code
 * wrongly accepts (as today's did) starts a run that fails at once instead of looking up a public name.
 */
const deadEnds = [
  'quay.io:99999',
  'quay.io:0',
  'registry.example:5000',
  'registry.example:0',
  'registry.example:99999',
  `${'a'.repeat(250)}.example`,
  'quay.io',
  'docker.io',
  'registry-1.docker.io',
  'index.docker.io',
  ecrHost,
  `${ecrHost}:443`,
  `${ecrHost}:8443`,
];

let server: RunningServer;
beforeAll(async () => {
  server = await startService({
    transport: {
      endpoints: new Map(deadEnds.map((host) => [host, 'http://127.0.0.1:1'])),
      retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    },
  });
});
afterAll(async () => {
  await server.close();
});

const valid = { images: ['quay.io/org/app:1'], destination: { registry: 'registry.example:5000' } };
const withSource = (host: string, credential: unknown = { username: 'u', password: 'p' }) => ({
  ...valid,
  sourceCredentials: { [host]: credential },
});
const destination = (registry: string) => ({ ...valid, destination: { registry } });

/**
 * Hostile or mistaken values in every caller-controlled field: each is a 400 naming the field,
 * and nothing is written. (Today's code took several: a bare name became a Docker Hub namespace,
 * ports out of range and userinfo keys were accepted, ":" in a user name broke Basic auth.)
 */
const cases: [string, object, RegExp][] = [
  [
    'a destination with no dot or port (not silently Docker Hub)',
    destination('myregistry'),
    /^destination\.registry: needs a dot or a port \(or localhost\); a bare name would be a Docker Hub namespace$/,
  ],
  [
    'a destination port above 65535',
    destination('registry.example:99999'),
    /^destination\.registry: has a port out of range \(1-65535\)$/,
  ],
  ['a destination port 0', destination('registry.example:0'), /^destination\.registry: has a port out of range/],
  [
    'a destination with userinfo',
    destination('user@registry.example'),
    /^destination\.registry: must be a registry host\[:port\] \(no scheme, user or path\)$/,
  ],
  [
    'a destination with a scheme',
    destination('https://registry.example'),
    /^destination\.registry: must be a registry host/,
  ],
  [
    'a destination with a path',
    destination('registry.example/../x'),
    /^destination\.registry: must be a registry host/,
  ],
  [
    'a destination with a control character',
    destination('registry.example\r\nX-Injected: 1'),
    /^destination\.registry: must be a registry host/,
  ],
  [
    'a very long destination',
    destination(`${'a'.repeat(250)}.example`),
    /^destination\.registry: must be at most 255 characters$/,
  ],
  [
    'a prefix with a path trick',
    { ...valid, destination: { ...valid.destination, prefix: '../etc' } },
    /^destination\.prefix: must be a lowercase repository path$/,
  ],
  [
    'a very long prefix',
    { ...valid, destination: { ...valid.destination, prefix: 'a'.repeat(201) } },
    /^destination\.prefix: must be at most 200 characters$/,
  ],
  [
    'insecure for an ECR destination',
    { ...valid, destination: { registry: ecrHost, insecure: true } },
    /^destination\.insecure: ECR registries are always reached over verified TLS$/,
  ],
  [
    'insecure for an ECR destination written with :443',
    { ...valid, destination: { registry: `${ecrHost}:443`, insecure: true } },
    /^destination\.insecure: ECR registries are always reached over verified TLS$/,
  ],
  [
    'an ECR destination on another port',
    { ...valid, destination: { registry: `${ecrHost}:8443`, insecure: true } },
    /^destination\.registry: is an ECR registry, which listens on port 443 only$/,
  ],
  [
    'an ECR source key on another port',
    withSource(`${ecrHost}:8443`),
    /^sourceCredentials\.123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com:8443: key is an ECR registry, which listens on port 443 only$/,
  ],
  [
    'an image from an ECR registry on another port',
    { ...valid, images: [`${ecrHost}:8443/private/db:1`] },
    /^images\[0\]: registry 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com:8443 is an ECR registry, which listens on port 443 only$/,
  ],
  [
    'a secret ARN with a character Secrets Manager names never hold',
    withSource('quay.io', { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x!y' }),
    /^sourceCredentials\.quay\.io(\.secretArn)?: must be/,
  ],
  [
    'a source key with no dot or port',
    withSource('myregistry'),
    /^sourceCredentials\.myregistry: key needs a dot or a port/,
  ],
  [
    'a source key port out of range',
    withSource('quay.io:99999'),
    /^sourceCredentials\.quay\.io:99999: key has a port out of range \(1-65535\)$/,
  ],
  ['a source key port 0', withSource('quay.io:0'), /^sourceCredentials\.quay\.io:0: key has a port out of range/],
  [
    'a source key with userinfo',
    withSource('user@quay.io'),
    /^sourceCredentials\.user@quay\.io: key must be a registry host/,
  ],
  [
    'a source key with a newline',
    withSource('quay.io\nX: 1'),
    /^sourceCredentials\.quay\.io\\nX: 1: key must be a registry host/,
  ],
  [
    'a very long source key',
    withSource(`${'q'.repeat(5000)}.io`),
    /^sourceCredentials\.q{100}: key must be at most 255 characters$/,
  ],
  [
    'one registry named twice (case)',
    {
      ...valid,
      sourceCredentials: { 'quay.io': { username: 'u', password: 'p' }, 'QUAY.io': { username: 'u', password: 'p' } },
    },
    /^sourceCredentials: "QUAY\.io" names a registry twice$/,
  ],
  [
    'one registry named twice (Docker Hub alias)',
    {
      ...valid,
      sourceCredentials: {
        'docker.io': { username: 'u', password: 'p' },
        'registry-1.docker.io': { username: 'u', password: 'p' },
      },
    },
    /names a registry twice/,
  ],
  [
    'a user name with ":"',
    withSource('quay.io', { username: 'a:b', password: 'p' }),
    /^sourceCredentials\.quay\.io\.username: must have no ":" and no control characters$/,
  ],
  [
    'a password with CR LF',
    withSource('quay.io', { username: 'u', password: 'p\r\nX: 1' }),
    /^sourceCredentials\.quay\.io\.password: must have no control characters$/,
  ],
  [
    'a very long user name',
    withSource('quay.io', { username: 'u'.repeat(2000), password: 'p' }),
    /^sourceCredentials\.quay\.io\.username: /,
  ],
  [
    'a credential with extra keys',
    withSource('quay.io', { username: 'u', password: 'p', registry: 'evil.example' }),
    /^sourceCredentials\.quay\.io: Unrecognized key: "registry"$/,
  ],
  [
    'a secret ARN of another service',
    withSource('quay.io', { secretArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/x' }),
    /^sourceCredentials\.quay\.io(\.secretArn)?: must be/,
  ],
  [
    'a secret ARN with a newline',
    withSource('quay.io', { secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x\ny' }),
    /^sourceCredentials\.quay\.io(\.secretArn)?: must be/,
  ],
  [
    "another run's secret",
    withSource('quay.io', {
      secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ferry/runs/0f0e/source-quay.io-AbCdEf',
    }),
    /^sourceCredentials\.quay\.io(\.secretArn)?: must not name a run secret \(ferry\/runs\/…\): those belong to the run that created them$/,
  ],
  [
    'too many source registries',
    {
      ...valid,
      sourceCredentials: Object.fromEntries(
        Array.from({ length: 101 }, (_, i) => [`r${i}.example`, { username: 'u', password: 'p' }]),
      ),
    },
    /^sourceCredentials: at most 100 registries$/,
  ],
  [
    'an image with control characters',
    { ...valid, images: ['quay.io/org/app:1\r\n'] },
    /^images\[0\]: .*control characters/,
  ],
  [
    'a very long image',
    { ...valid, images: [`quay.io/${'a'.repeat(3000)}:1`] },
    /^images\[0\]: must be at most 2048 characters$/,
  ],
  [
    'an image whose registry port is out of range',
    { ...valid, images: ['quay.io:99999/org/app:1'] },
    /^images\[0\]: registry quay\.io:99999 has a port out of range \(1-65535\)$/,
  ],
  [
    'an image whose registry port is 0',
    { ...valid, images: ['quay.io:0/org/app:1'] },
    /^images\[0\]: registry quay\.io:0 has a port out of range/,
  ],
  ['an image with userinfo', { ...valid, images: ['user:pass@quay.io/org/app:1'] }, /^images\[0\]: invalid reference/],
  ['an image with a path trick', { ...valid, images: ['quay.io/../etc/passwd:1'] }, /^images\[0\]: invalid reference/],
  [
    'too many platforms',
    { ...valid, platforms: Array.from({ length: 33 }, () => 'linux/amd64') },
    /^platforms: at most 32 platforms$/,
  ],
  [
    'a very long platform',
    { ...valid, platforms: [`linux/${'a'.repeat(100)}`] },
    /^platforms\[0\]: must be at most 64 characters$/,
  ],
  [
    'a role ARN with a newline',
    { ...valid, destination: { ...valid.destination, roleArn: 'arn:aws:iam::123456789012:role/x\n' } },
    /^destination\.roleArn: must be an IAM role ARN$/,
  ],
];

describe('POST /v1/runs refuses hostile and mistaken input', () => {
  it.each(cases)('%s → 400 naming the field, nothing written', async (_name, body, message) => {
    const res = await api(server.url, 'POST', '/v1/runs', body);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(message);
    expect((res.json as { message: string }).message.length).toBeLessThan(400);
    expect(((await api(server.url, 'GET', '/v1/runs?limit=100')).json as { runs: unknown[] }).runs).toEqual([]);
  });

  it('never echoes a password in an error', async () => {
    const res = await api(
      server.url,
      'POST',
      '/v1/runs',
      withSource('quay.io', { username: 'u', password: 'hunter2\u0007' }),
    );
    expect(res.status).toBe(400);
    expect(res.text).not.toContain('hunter2');
  });

  it('still takes localhost, IPv6 literals and host:port destinations (all loopback: the runs reach nothing else)', async () => {
    for (const registry of ['localhost', '[::1]:1', '127.0.0.1:1']) {
      const res = await api(server.url, 'POST', '/v1/runs', {
        ...destination(registry),
        dryRun: true,
        images: ['localhost:1/none:1'],
      });
      expect(res.status, registry).toBe(202);
    }
    await server.drain();
  });
});
