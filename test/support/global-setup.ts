import 'vitest';
import type { TestProject } from 'vitest/node';
import { startRegistry } from './registry-process.js';
import { startTokenIssuer } from './token-issuer.js';

export interface RegistryInfo {
  host: string;
  url: string;
}

export interface TestRegistries {
  seed: number;
  src: RegistryInfo;
  dst: RegistryInfo;
  basic: RegistryInfo & { username: string; password: string };
  token: RegistryInfo & { realm: string; username: string; password: string };
}

declare module 'vitest' {
  export interface ProvidedContext {
    registries: TestRegistries;
  }
}

/** Starts the real registries every integration test shares (tests use distinct repository names). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const seed = Number(process.env.FERRY_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31));
  process.stderr.write(`ferry tests: random seed ${seed} (set FERRY_TEST_SEED to reproduce)\n`);
  const users = { alice: 'wonderland' };
  const issuer = await startTokenIssuer(users);
  const [src, dst, basic, token] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry({ kind: 'htpasswd', users }),
    startRegistry({
      kind: 'token',
      realm: issuer.realm,
      service: issuer.service,
      issuer: issuer.issuer,
      certFile: issuer.certFile,
    }),
  ]);
  project.provide('registries', {
    seed,
    src: { host: src.host, url: src.url },
    dst: { host: dst.host, url: dst.url },
    basic: { host: basic.host, url: basic.url, username: 'alice', password: 'wonderland' },
    token: { host: token.host, url: token.url, realm: issuer.realm, username: 'alice', password: 'wonderland' },
  });
  return async () => {
    await Promise.all([src.stop(), dst.stop(), basic.stop(), token.stop(), issuer.stop()]);
  };
}
