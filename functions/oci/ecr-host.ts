/** An Amazon ECR registry host, parsed. */
export interface EcrHost {
  readonly account: string;
  readonly region: string;
  readonly fips: boolean;
  /** `amazonaws.com`, or `amazonaws.com.cn` in the China partition. */
  readonly dnsSuffix: string;
}

// <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]
const ecrHost = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d)\.(amazonaws\.com(?:\.cn)?)$/;

/** Recognises ECR registry hosts, including FIPS endpoints and the China partition. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const match = ecrHost.exec(host.toLowerCase());
  if (!match) return undefined;
  return { account: match[1]!, region: match[3]!, fips: match[2] !== undefined, dnsSuffix: match[4]! };
}

/** The ECR registry host of an account in a region (same partition and FIPS-ness as `like`). */
export function ecrHostFor(account: string, region: string, like?: EcrHost): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : (like?.dnsSuffix ?? 'amazonaws.com');
  return `${account}.dkr.ecr${like?.fips ? '-fips' : ''}.${region}.${suffix}`;
}
