import { describe, expect, it } from 'vitest';
import { NetworkGuard } from '../../functions/oci/network-guard.js';
import { parseEcrRepositoryPrefixes } from '../../functions/runs/ecr-scope.js';
import { parseFerryConfig } from '../../infra/config.js';

/** Whether the runtime takes the value: the constructor or parser throws, or not. */
const accepts = (build: () => unknown): boolean => {
  try {
    build();
    return true;
  } catch {
    return false;
  }
};

describe('infra/config.ts checks settings as the runtime will read them (without importing it)', () => {
  it.each([
    'registry.internal',
    '10.20.0.0/16',
    '10.0.0.0/99',
    '10.0.0.1',
    'fd12::/64',
    'fd12::/129',
    '[fd12::1]/128',
    'fe80::1%eth0/64',
    '10.0.0.0/8/8',
    '10.0.0.0/',
    '999.0.0.0/8',
    'host/path',
    '10.0.0.0/08',
  ])('allowPrivateRegistries %s: the stack and the network guard agree', (entry) => {
    const stack = accepts(() => parseFerryConfig({ allowPrivateRegistries: [entry] }));
    expect([entry, stack]).toEqual([entry, accepts(() => new NetworkGuard([entry]))]);
  });

  it.each(['mirror/', 'team-*', '*', 'mirror', 'Mirror/', 'a,b/', 'x'.repeat(256) + '/'])(
    'ecrRepositoryPrefixes %s: the stack and the Lambdas agree',
    (prefix) => {
      const stack = accepts(() => parseFerryConfig({ ecrRepositoryPrefixes: [prefix] }));
      expect([prefix, stack]).toEqual([prefix, accepts(() => parseEcrRepositoryPrefixes(prefix))]);
    },
  );

  it('keeps the ECR repository settings it validated, and refuses an unknown one naming it', () => {
    const ecrRepositories = { tagMutability: 'IMMUTABLE', scanOnPush: true, tags: { team: 'platform' } };
    expect(parseFerryConfig({ ecrRepositories }).ecrRepositories).toEqual(ecrRepositories);
    expect(parseFerryConfig({}).ecrRepositories).toEqual({});
    expect(() => parseFerryConfig({ ecrRepositories: { scanOnPsuh: true } })).toThrow(/unknown key "scanOnPsuh"/);
  });

  it('takes assumable roles as whole role ARNs only: a wildcard would let the functions assume any role', () => {
    expect(
      parseFerryConfig({ assumableRoles: ['arn:aws:iam::444455556666:role/path/ferry-push'] }).assumableRoles,
    ).toEqual(['arn:aws:iam::444455556666:role/path/ferry-push']);
    for (const arn of [
      'arn:aws:iam::444455556666:role/*',
      'arn:aws:iam::444455556666:role/ferry-*',
      'arn:aws:iam::*:role/ferry',
      'arn:aws:iam::444455556666:user/ferry',
    ])
      expect(() => parseFerryConfig({ assumableRoles: [arn] })).toThrow(/assumableRoles/);
  });
});
