import { awsRegionPattern } from '../contract.js';

/** An Amazon ECR registry host, parsed. */
export interface EcrHost {
  readonly account: string;
  readonly region: string;
  readonly fips: boolean;
  /** `amazonaws.com`, or `amazonaws.com.cn` in the China partition. */
  readonly dnsSuffix: string;
}

// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn][:port]
const ecrHost = new RegExp(
  `^(\\d{12})\\.dkr\\.ecr(-fips)?\\.(${awsRegionPattern.source.slice(1, -1)})\\.(amazonaws\\.com(?:\\.cn)?)(?::(\\d+))?$`,
);

/**
 * Recognises ECR registry hosts, including FIPS endpoints and the China partition. `:443` is the
 * same endpoint (HTTPS's default port), so it is ECR too: every ECR rule (IAM tokens, the
 * repository scope, no `insecure`) must see `host:443` as it sees `host`.
 */
export function parseEcrHost(host: string): EcrHost | undefined {
  const match = ecrHost.exec(host.toLowerCase());
  if (!match || (match[5] !== undefined && match[5] !== '443')) return undefined;
  return { account: match[1]!, region: match[3]!, fips: match[2] !== undefined, dnsSuffix: match[4]! };
}

/**
 * An ECR host name with a port other than 443: ECR listens on 443 only, so this is a mistake or a
 * way around the ECR rules (it is not {@link parseEcrHost}'s ECR), and callers refuse it.
 */
export function isEcrHostWithOtherPort(host: string): boolean {
  const port = ecrHost.exec(host.toLowerCase())?.[5];
  return port !== undefined && port !== '443';
}

/** The ECR registry host of an account in a region (same partition and FIPS-ness as `like`). */
export function ecrHostFor(account: string, region: string, like?: EcrHost): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : (like?.dnsSuffix ?? 'amazonaws.com');
  return `${account}.dkr.ecr${like?.fips ? '-fips' : ''}.${region}.${suffix}`;
}
