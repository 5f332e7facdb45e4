import { z } from 'zod';

/** A schedule that re-runs a stored image set. */
const scheduleSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  /** EventBridge Scheduler expression: `rate(6 hours)`, `cron(0 3 * * ? *)`. */
  expression: z.string().regex(/^(rate|cron|at)\(.+\)$/),
  timezone: z.string().default('UTC'),
  /** The run request (POST /v1/runs body) the schedule starts. */
  run: z.looseObject({ images: z.array(z.string()).min(1), destination: z.looseObject({ registry: z.string() }) }),
});

/** Stack configuration, from the CDK context key `ferry` (cdk.json or `-c ferry=…`). */
export const ferryConfigSchema = z.strictObject({
  /** Other AWS accounts allowed to call the API and put sync requests on the bus. */
  trustedAccounts: z.array(z.string().regex(/^\d{12}$/)).default([]),
  /** An AWS Organization whose accounts are trusted the same way. */
  trustedOrganizationId: z.string().regex(/^o-[a-z0-9]{10,32}$/).optional(),
  /** Images copied at once per run (Map concurrency). */
  mapConcurrency: z.number().int().min(1).max(1000).default(10),
  /** Days finished runs are kept (DynamoDB TTL). */
  retentionDays: z.number().int().min(1).max(3650).default(30),
  /** Days Lambda and state-machine logs are kept. */
  logRetentionDays: z.number().int().default(30),
  schedules: z.array(scheduleSchema).default([]),
  /** Registry hosts in private ranges the service may reach (the SSRF guard refuses them otherwise). */
  allowPrivateRegistries: z.array(z.string()).default([]),
  /** ECR repository name prefixes the copy function may write to (`*` for all). */
  ecrRepositoryPrefixes: z.array(z.string().regex(/^[a-z0-9._/*-]+$/)).min(1).default(['*']),
  /** Settings of the ECR repositories Ferry creates before pushing. */
  ecrRepositories: z.strictObject({
    tagMutability: z.enum(['MUTABLE', 'IMMUTABLE']).optional(), scanOnPush: z.boolean().optional(), kmsKey: z.string().optional(),
    lifecyclePolicy: z.string().optional(), tags: z.record(z.string(), z.string()).optional(), useCreationTemplate: z.boolean().optional(),
  }).default({}),
  /** IAM roles (other accounts) the copy function may assume to reach their ECR. */
  assumableRoles: z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/)).default([]),
});
export type FerryConfig = z.infer<typeof ferryConfigSchema>;

export function parseFerryConfig(raw: unknown): FerryConfig {
  const parsed = ferryConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new Error(`invalid "ferry" context: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
