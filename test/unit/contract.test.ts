import { describe, expect, it } from 'vitest';
import {
  ecrRepositoryPattern,
  ecrRepositoryPrefixProblem,
  formatEcrRepositoryPrefixes,
  parseEcrRepositorySettings,
  secretArnPattern,
} from '../../functions/contract.js';
import { EcrScope, parseEcrRepositoryPrefixes } from '../../functions/runs/ecr-scope.js';

describe('contract.ts: what infra/ and the runtime agree on', () => {
  it('reads ECR repository settings: the known keys with their types, nothing else', () => {
    const settings = {
      tagMutability: 'IMMUTABLE',
      scanOnPush: true,
      kmsKey: 'alias/ferry',
      lifecyclePolicy: '{"rules":[]}',
      tags: { team: 'platform' },
      useCreationTemplate: false,
    };
    expect(parseEcrRepositorySettings(settings)).toEqual({ settings });
    expect(parseEcrRepositorySettings({})).toEqual({ settings: {} });
  });

  it.each([
    [[], 'must be an object'],
    [null, 'must be an object'],
    [{ tagMutability: 'mutable' }, 'tagMutability: must be "MUTABLE" or "IMMUTABLE"'],
    [{ scanOnPush: 'yes' }, 'scanOnPush: must be a boolean'],
    [{ tags: { team: 1 } }, 'tags: must be an object of strings'],
    [{ scanOnPsuh: true }, 'unknown key "scanOnPsuh"'],
  ])('refuses ECR settings %j: %s', (value, problem) => {
    expect(parseEcrRepositorySettings(value)).toEqual({ problem });
  });

  it('checks ECR repository prefixes as the runtime parses them', () => {
    for (const ok of ['mirror/', 'team-*', '*', 'a/b/c/'])
      expect([ok, ecrRepositoryPrefixProblem(ok)]).toEqual([ok, undefined]);
    for (const bad of ['mirror', 'Mirror/', '', 'a b/', 'x'.repeat(257) + '/']) {
      const problem = ecrRepositoryPrefixProblem(bad);
      expect(problem).toBeDefined();
      // The runtime refuses the same prefix, with the same reason.
      const refused: unknown = (() => {
        try {
          return new EcrScope([bad]);
        } catch (err) {
          return err;
        }
      })();
      expect(refused).toMatchObject({ name: 'UsageError', code: 'USAGE' });
      expect((refused as Error).message.endsWith(`"${bad}" ${problem}`)).toBe(true);
    }
  });

  it('writes prefixes as the runtime reads them, and grants each as an IAM pattern', () => {
    const prefixes = ['mirror/', 'team-*'];
    expect(parseEcrRepositoryPrefixes(formatEcrRepositoryPrefixes(prefixes))).toEqual(prefixes);
    expect(prefixes.map(ecrRepositoryPattern)).toEqual(['mirror/*', 'team-*']);
  });

  it('recognises Secrets Manager ARNs only', () => {
    expect(secretArnPattern.test('arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/registry-AbCdEf')).toBe(
      true,
    );
    expect(secretArnPattern.test('arn:aws:ssm:eu-west-1:111122223333:parameter/x')).toBe(false);
    expect(secretArnPattern.test('arn:aws:secretsmanager:eu-west-1:111122223333:secret:a b')).toBe(false);
  });
});
