import { describe, expect, it } from 'vitest';
import { ecrHostFor, isEcrHostWithOtherPort, parseEcrHost } from '../../functions/oci/ecr-host.js';

describe('ECR hosts', () => {
  it.each([
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      { account: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com' },
    ],
    [
      '123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com',
      { account: '123456789012', region: 'us-gov-west-1', fips: true, dnsSuffix: 'amazonaws.com' },
    ],
    [
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      { account: '123456789012', region: 'cn-north-1', fips: false, dnsSuffix: 'amazonaws.com.cn' },
    ],
    // HTTPS's default port names the same endpoint: ECR's rules must not be skipped by writing it.
    [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com:443',
      { account: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com' },
    ],
  ])('recognises %s', (host, parsed) => {
    expect(parseEcrHost(host)).toEqual(parsed);
  });
  it('tells an ECR name on another port (refused wherever ECR rules apply) from ECR and from other hosts', () => {
    expect(parseEcrHost('123456789012.dkr.ecr.us-east-1.amazonaws.com:8443')).toBeUndefined();
    expect(
      ['123456789012.dkr.ecr.us-east-1.amazonaws.com:8443', '123456789012.dkr.ecr.us-east-1.amazonaws.com:0'].map(
        isEcrHostWithOtherPort,
      ),
    ).toEqual([true, true]);
    expect(
      [
        '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        '123456789012.dkr.ecr.us-east-1.amazonaws.com:443',
        'quay.io:8443',
      ].map(isEcrHostWithOtherPort),
    ).toEqual([false, false, false]);
  });
  it.each([
    'public.ecr.aws',
    '12345.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io',
    'quay.io',
  ])('rejects %s', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
  });
  it('names a region’s registry in the same partition', () => {
    expect(ecrHostFor('123456789012', 'eu-west-1')).toBe('123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(ecrHostFor('123456789012', 'cn-northwest-1')).toBe('123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn');
    expect(
      ecrHostFor(
        '123456789012',
        'us-gov-east-1',
        parseEcrHost('1.dkr.ecr-fips.us-gov-west-1.amazonaws.com') ?? {
          account: '',
          region: '',
          fips: true,
          dnsSuffix: 'amazonaws.com',
        },
      ),
    ).toBe('123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com');
  });
});
