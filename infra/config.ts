import { isIP } from 'node:net';
import { z } from 'zod';
import {
  type EcrRepositorySettings,
  ecrRepositoryPrefixProblem,
  parseEcrRepositorySettings,
  secretArnPattern,
} from '../functions/contract.js';

/** An ECR repository name prefix (see {@link ecrRepositoryPrefixProblem}: the runtime checks the same). */
const ecrRepositoryPrefix = z.string().superRefine((prefix, ctx) => {
  const problem = ecrRepositoryPrefixProblem(prefix);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

/** The settings of the ECR repositories Ferry creates, as the Lambdas read them back from FERRY_ECR_REPOSITORIES. */
const ecrRepositorySettings = z.unknown().transform((value, ctx): EcrRepositorySettings => {
  const parsed = parseEcrRepositorySettings(value);
  if ('settings' in parsed) return parsed.settings;
  ctx.addIssue({ code: 'custom', message: parsed.problem });
  return z.NEVER;
});

/**
 * Why an allow-list entry (a host name, an address, or ADDRESS/BITS) would make the Lambdas'
 * network guard refuse to start, or undefined when it is fine: an entry with a `/` must be a
 * network (the guard takes anything else as a host name).
 */
function networkEntryProblem(entry: string): string | undefined {
  if (!entry.includes('/')) return undefined;
  const [address = '', bits, extra] = entry.split('/');
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const family = isIP(bare);
  const max = family === 4 ? 32 : 128;
  const valid = family !== 0 && extra === undefined && /^\d{1,3}$/.test(bits ?? '') && Number(bits) <= max;
  return valid ? undefined : `network guard: "${entry}" is not a network (expected ADDRESS/BITS)`;
}

/** A schedule that re-runs a stored image set. */
const scheduleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** EventBridge Scheduler expression: `rate(6 hours)`, `cron(0 3 * * ? *)`. */
  expression: z.string().regex(/^(rate|cron|at)\(.+\)$/),
  timezone: z.string().default('UTC'),
  /** The run request (POST /v1/runs body) the schedule starts. */
  run: z.looseObject({ images: z.array(z.string()).min(1), destination: z.looseObject({ registry: z.string() }) }),
});

/** A forward proxy's URL, as HTTPS_PROXY takes it. */
const proxyUrl = z
  .string()
  .regex(
    /^http:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/,
    'must be http://HOST[:PORT] (no credentials: they would be stored in plaintext in the template)',
  );

/**
 * A registry secret's ARN, or an IAM pattern of one: `*` only inside the name and never first (a
 * bare `*` would read every secret). The part before the first `*` is itself a secret ARN, and
 * so is the whole with each `*` taken as a name character.
 */
const registrySecretArn = z
  .string()
  .max(2048)
  .refine(
    (arn) => secretArnPattern.test(arn.split('*')[0]!) && secretArnPattern.test(arn.replaceAll('*', 'x')),
    'must be a Secrets Manager secret ARN whose name starts with a character other than * (tag secrets ferry:registry to opt in many)',
  );

/** Stack configuration, from the CDK context key `ferry` (cdk.json or `-c ferry=…`). */
export const ferryConfigSchema = z.strictObject({
  /** Other AWS accounts allowed to call the API and put sync requests on the bus. */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/)).default([]),
  /** An AWS Organization whose accounts are trusted the same way. */
  trustedOrganizationId: z
    .string()
    .regex(/^o-[a-z0-9]{10,32}$/)
    .optional(),
  /** Images copied at once per run (Map concurrency). */
  mapConcurrency: z.number().int().min(1).max(1000).default(10),
  /** Days finished runs are kept (DynamoDB TTL). */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** Days Lambda and state-machine logs are kept. */
  logRetentionDays: z.number().int().default(30),
  schedules: z.array(scheduleSchema).default([]),
  /** Registry hosts or networks (CIDRs) in private ranges the service may reach (the SSRF guard refuses them otherwise). */
  allowPrivateRegistries: z
    .array(z.string().min(1).max(253))
    .default([])
    .superRefine((entries, ctx) => {
      for (const problem of entries.map(networkEntryProblem))
        if (problem !== undefined) return ctx.addIssue({ code: 'custom', message: problem });
    }),
  /**
   * A forward proxy between the Plan and Copy functions and the registries (their HTTPS_PROXY,
   * HTTP_PROXY and NO_PROXY). No credentials in the URL: the template would hold them in plaintext.
   */
  proxy: z
    .strictObject({
      httpsProxy: proxyUrl.optional(),
      httpProxy: proxyUrl.optional(),
      noProxy: z
        .string()
        .regex(
          /^[A-Za-z0-9.:*/[\],-]{1,4096}$/,
          'must be a NO_PROXY list: hosts, .domains, IPs and CIDRs separated by commas',
        )
        .optional(),
    })
    .optional(),
  /**
   * OpenShift content (issue 10): the update graph for `mirror.platform.channels` (oc-mirror's
   * UPDATE_URL_OVERRIDE; absent: api.openshift.com) and a release signature store whose signatures
   * travel with mirrored releases (absent: none fetched). https only: the functions read them.
   */
  openshift: z
    .strictObject({
      updateGraphUrl: z.string().url().startsWith('https://', 'must be an https URL').optional(),
      releaseSignaturesUrl: z.string().url().startsWith('https://', 'must be an https URL').optional(),
    })
    .default({}),
  /**
   * ECR repository name prefixes runs may read from and write to (IAM and a run-time check), each
   * ending in `/` (`mirror/`: mirror/*) or `*` (`team-*`). None (the default) refuses every ECR
   * repository; `["*"]` opts in to all of the account's repositories.
   */
  ecrRepositoryPrefixes: z.array(ecrRepositoryPrefix).default([]),
  /**
   * Registry credentials the service may read besides its own run secrets (`ferry/runs/*`) and the
   * secrets tagged `ferry:registry`: full Secrets Manager ARNs (a trailing `*` matches the random suffix).
   */
  registrySecretArns: z.array(registrySecretArn).default([]),
  /**
   * Customer managed KMS keys that encrypt opted-in registry secrets: the Plan and Copy roles may
   * decrypt with them through Secrets Manager only (the key policy must allow the account too).
   */
  registrySecretKmsKeyArns: z
    .array(z.string().regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[a-f0-9-]+$/, 'must be a KMS key ARN'))
    .default([]),
  /** Hours after which the sweep deletes a run secret whose run never finished (runs that did are cleaned at Finish). */
  runSecretMaxAgeHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 366)
    .default(72),
  /** API Gateway stage throttling and the API Lambda's reserved concurrency (`null`: none reserved). */
  api: z
    .strictObject({
      rateLimit: z.number().min(1).max(10_000).default(10),
      burstLimit: z.number().int().min(1).max(5_000).default(20),
      reservedConcurrency: z.number().int().min(1).max(1000).nullable().default(5),
    })
    .default({ rateLimit: 10, burstLimit: 20, reservedConcurrency: 5 }),
  /** Settings of the ECR repositories Ferry creates before pushing. */
  ecrRepositories: ecrRepositorySettings.default({}),
  /** IAM roles (other accounts) the copy function may assume to reach their ECR. */
  /** Whole role ARNs (IAM's role-name characters, paths allowed): no wildcard, so the functions may assume exactly these. */
  assumableRoles: z
    .array(
      z
        .string()
        .regex(
          /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
          'must be an IAM role ARN without wildcards (arn:aws:iam::123456789012:role/name)',
        ),
    )
    .default([]),
});
export type FerryConfig = z.infer<typeof ferryConfigSchema>;

export function parseFerryConfig(raw: unknown): FerryConfig {
  const parsed = ferryConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`invalid "ferry" context: ${z.prettifyError(parsed.error)}`);
  for (const schedule of parsed.data.schedules) refuseInlineCredentials(schedule);
  return parsed.data;
}

/**
 * WARNING: a schedule's run body is written verbatim into the template and the Scheduler target's
 * input, both readable by anyone who can read the stack: credentials there are plaintext. Only
 * `{"secretArn": …}` references may appear, and no `username`/`password`/`auth` key anywhere.
 */
function refuseInlineCredentials(schedule: z.infer<typeof scheduleSchema>): void {
  const fail = (where: string): never => {
    throw new Error(
      `invalid "ferry" context: schedule "${schedule.name}": ${where} holds inline credentials, which would be stored in plaintext in the template and the Scheduler target; put them in Secrets Manager and pass {"secretArn": "…"}`,
    );
  };
  const isRef = (value: unknown): boolean => z.strictObject({ secretArn: z.string() }).safeParse(value).success;
  const destination = schedule.run.destination as Record<string, unknown>;
  if (destination.credentials !== undefined && !isRef(destination.credentials)) fail('run.destination.credentials');
  const sources: unknown = schedule.run.sourceCredentials;
  if (sources !== undefined) {
    if (typeof sources !== 'object' || sources === null) fail('run.sourceCredentials');
    for (const [host, value] of Object.entries(sources as Record<string, unknown>))
      if (!isRef(value)) fail(`run.sourceCredentials["${host}"]`);
  }
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        if (['username', 'password', 'auth', 'identitytoken'].includes(key.toLowerCase())) fail(`${path}.${key}`);
        walk(v, `${path}.${key}`);
      }
    }
  };
  walk(schedule.run, 'run');
}
