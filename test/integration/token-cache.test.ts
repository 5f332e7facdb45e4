import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildImage, push, remoteDigest, Rng } from '../support/fixtures.js';
import { basicCreds, createEngine, tokenHeader } from '../support/engine.js';
import { type RunningRegistry, startRegistry } from '../support/registry-process.js';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.js';

const { seed, src } = inject('registries');
const rng = new Rng(seed + 5);
let issuer: TokenIssuer;
let registry: RunningRegistry;

beforeAll(async () => {
  issuer = await startTokenIssuer({ bob: 'builder' });
  registry = await startRegistry({
    kind: 'token',
    realm: issuer.realm,
    service: issuer.service,
    issuer: issuer.issuer,
    certFile: issuer.certFile,
  });
});
afterAll(async () => {
  await registry.stop();
  await issuer.stop();
});

describe('Bearer tokens', () => {
  it('asks the token server once per scope and reuses the token for every request of a copy', async () => {
    const images = Array.from({ length: 3 }, () => buildImage({ layers: [rng.bytes(10_000), rng.bytes(10_000)] }));
    const name = `tokens/app-${rng.int(1e9)}`;
    await Promise.all(images.map((im, i) => push(src.url, name, `v${i}`, im)));
    const engine = createEngine({ destinationCredentials: basicCreds(registry.host, 'bob', 'builder') });
    try {
      for (const [i, im] of images.entries()) {
        const tag = `v${i}`;
        const result = await engine.copier.copy(
          engine.registries.image({ kind: 'registry', ref: { registry: src.host, repository: name, tag } }, 'source'),
          engine.registries.image(
            { kind: 'registry', ref: { registry: registry.host, repository: name, tag } },
            'destination',
          ),
        );
        expect(result.digest).toBe(im.digest);
      }
    } finally {
      await engine.close();
    }
    const forRepo = issuer.requests.filter((r) => r.scope.some((s) => s.includes(name)));
    expect(forRepo).toHaveLength(1);
    expect(forRepo[0]).toEqual({ scope: [`repository:${name}:pull,push`], user: 'bob' });
    const auth = tokenHeader(issuer.realm, issuer.service, 'bob', 'builder');
    expect(await remoteDigest(registry.url, name, 'v2', auth)).toBe(images[2]!.digest);
  });
});
