/**
 * What the deployed stack (infra/) and the runtime (functions/) must agree on: environment
 * variable names, the run table's shape, secret names and tags, the API stage, timeouts, and the
 * grammars of the settings the stack validates at synth time and the runtime reads back.
 *
 * WARNING: this file imports nothing (lint enforces it), so that infra/ can read these names
 * without loading any runtime module or SDK. Renaming a value here changes both sides at once; a
 * deployed stack keeps the old names until it is deployed again.
 */

/** Environment variable names the handlers read (set by the stack, and by `ferry serve`). */
export const Env = {
  tableName: 'FERRY_TABLE_NAME',
  stateMachineArn: 'FERRY_STATE_MACHINE_ARN',
  eventBusName: 'FERRY_EVENT_BUS_NAME',
  retentionDays: 'FERRY_RETENTION_DAYS',
  allowPrivateNetworks: 'FERRY_ALLOW_PRIVATE_NETWORKS',
  task: 'FERRY_TASK',
  /** The account the stack is deployed in: `sync_images` replicates from its ECR registry. */
  accountId: 'FERRY_ACCOUNT_ID',
  /** JSON {@link EcrRepositorySettings} for the ECR repositories Ferry creates. */
  ecrRepositories: 'FERRY_ECR_REPOSITORIES',
  /** Comma-separated ECR repository prefixes runs may use (absent: no limit, as for `ferry serve`). */
  ecrRepositoryPrefixes: 'FERRY_ECR_REPOSITORY_PREFIXES',
  /** Hours after which the sweep deletes an unfinished run's secrets. */
  runSecretMaxAgeHours: 'FERRY_RUN_SECRET_MAX_AGE_HOURS',
  /** The EventBridge Scheduler group holding image sets' schedules (the API function keeps them). */
  setScheduleGroup: 'FERRY_SET_SCHEDULE_GROUP',
  /** The function image sets' schedules invoke (the scheduled-run Lambda). */
  setScheduleTargetArn: 'FERRY_SET_SCHEDULE_TARGET_ARN',
  /** The role EventBridge Scheduler assumes to invoke it. */
  setScheduleRoleArn: 'FERRY_SET_SCHEDULE_ROLE_ARN',
  /** The OpenShift update graph URL for `mirror.platform.channels`: oc-mirror's name, so existing setups carry over. */
  updateUrlOverride: 'UPDATE_URL_OVERRIDE',
  /** A release signature store (`…/signatures/openshift/release`): signatures travel with mirrored releases. */
  releaseSignaturesUrl: 'FERRY_RELEASE_SIGNATURES_URL',
} as const;

/** The run table's shape, shared by the CDK stack and the local runtime (names only). */
export const RunTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
  listIndex: 'byStartTime',
  listPartitionKey: 'gsi1pk',
  listSortKey: 'gsi1sk',
  ttlAttribute: 'expiresAt',
  /**
   * A sparse index of image items by run and status (`RUN#<id>#<status>`, then the table's sort
   * key): `GET /v1/runs/{id}/images?status=failed` reads the failed images only, not the run.
   */
  statusIndex: 'byImageStatus',
  statusPartitionKey: 'gsi2pk',
} as const;

/**
 * The longest a run is expected to last. Everything run-scoped in the run table (image items,
 * the stored request and image-set document, the run item itself) carries a TTL of at most this
 * plus the retention period from when it was written, so a run that never finishes still
 * expires; a run that finishes expires its retention period after it ends.
 */
export const maxRunDays = 30;

/*
 * Secret names and tags. WARNING: the IAM policies grant reads by these names and this tag;
 * renaming one here without redeploying the stack locks Ferry out of its credentials.
 */

/** Prefix of the run-scoped secrets Ferry creates for inline credentials (IAM is scoped to it). */
export const runSecretPrefix = 'ferry/runs/';

/** Tag that opts a secret in for Ferry; its value is the one registry host the secret may be sent to. */
export const registryTag = 'ferry:registry';

/** Tag on run-scoped secrets: the run they belong to. */
export const runTag = 'ferry:run';

/**
 * The deployed API's stage name, which is also the API version in every path: callers use
 * `https://<api>.execute-api.<region>.amazonaws.com/v1/runs`, and `ferry serve` serves `/v1/runs`.
 */
export const apiStage = 'v1';

/**
 * The longest a request that starts runs can take: the timeout of the Lambdas that start them
 * (API, schedule, sync request: FerryFunction's default timeout is this constant). An
 * Idempotency-Key claimed longer ago than this, whose run was never written, belongs to a request
 * that died: the key may be taken over.
 */
export const startRequestTimeoutSeconds = 30;

/**
 * A Secrets Manager secret ARN: partition, region, account and a secret name in the characters
 * Secrets Manager allows (letters, digits, `/_+=.@-`). The one definition: the API's
 * `secretArn` fields and the stack's `registrySecretArns` check build on it.
 */
export const secretArnPattern = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

/** An AWS region name (`eu-west-1`, `us-gov-west-1`, `cn-north-1`). */
export const awsRegionPattern = /^[a-z]{2}(?:-[a-z]+)+-\d$/;

/**
 * Why an ECR repository name prefix (the stack's `ecrRepositoryPrefixes`, serve's
 * FERRY_ECR_REPOSITORY_PREFIXES) is refused, or undefined when it is valid. It must end in `/`
 * (every repository under that namespace) or `*` (IAM's wildcard: every name starting so). A bare
 * `mirror` is refused rather than read as `mirror*`, which would also grant `mirror-evil/x`; nor
 * is it taken as one exact repository, which would silently narrow what such a setting meant.
 */
export function ecrRepositoryPrefixProblem(prefix: string): string | undefined {
  if (!/^[a-z0-9._/*-]{1,256}$/.test(prefix)) return 'must be an ECR repository name prefix (a-z 0-9 . _ / - and *)';
  if (!prefix.endsWith('/') && !prefix.endsWith('*'))
    return 'must end in "/" (every repository under it, e.g. "mirror/") or "*" (every name that starts so, e.g. "mirror-*")';
  return undefined;
}

/** The IAM resource name pattern (`repository/<pattern>`) that grants a prefix: the stack and the run-time check both use it. */
export function ecrRepositoryPattern(prefix: string): string {
  return prefix.endsWith('*') ? prefix : `${prefix}*`;
}

/** The FERRY_ECR_REPOSITORY_PREFIXES format: prefixes separated by commas. */
export function formatEcrRepositoryPrefixes(prefixes: readonly string[]): string {
  return prefixes.join(',');
}

/** Settings of the ECR repositories Ferry creates before pushing (the stack's `ecrRepositories`). */
export interface EcrRepositorySettings {
  readonly tagMutability?: 'MUTABLE' | 'IMMUTABLE';
  readonly scanOnPush?: boolean;
  /** KMS key ARN or alias; AES256 when absent. */
  readonly kmsKey?: string;
  /** An ECR lifecycle policy document (JSON text). */
  readonly lifecyclePolicy?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Leave creation to an ECR repository creation template (ECR creates on first push). */
  readonly useCreationTemplate?: boolean;
}

/**
 * Reads {@link EcrRepositorySettings} from untrusted JSON: the one definition the stack's config
 * and the Lambdas' FERRY_ECR_REPOSITORIES both use. Unknown keys are refused (a typo must not
 * silently drop a setting).
 */
export function parseEcrRepositorySettings(
  value: unknown,
): { readonly settings: EcrRepositorySettings } | { readonly problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'must be an object' };
  const fields = value as Record<string, unknown>;
  const check: Record<keyof EcrRepositorySettings, (v: unknown) => boolean> = {
    tagMutability: (v) => v === 'MUTABLE' || v === 'IMMUTABLE',
    scanOnPush: (v) => typeof v === 'boolean',
    kmsKey: (v) => typeof v === 'string',
    lifecyclePolicy: (v) => typeof v === 'string',
    tags: (v) =>
      typeof v === 'object' &&
      v !== null &&
      !Array.isArray(v) &&
      Object.values(v).every((tag) => typeof tag === 'string'),
    useCreationTemplate: (v) => typeof v === 'boolean',
  };
  const expected: Record<keyof EcrRepositorySettings, string> = {
    tagMutability: '"MUTABLE" or "IMMUTABLE"',
    scanOnPush: 'a boolean',
    kmsKey: 'a string',
    lifecyclePolicy: 'a string',
    tags: 'an object of strings',
    useCreationTemplate: 'a boolean',
  };
  for (const [key, v] of Object.entries(fields)) {
    if (!Object.hasOwn(check, key)) return { problem: `unknown key "${key}"` };
    const name = key as keyof EcrRepositorySettings;
    if (v !== undefined && !check[name](v)) return { problem: `${key}: must be ${expected[name]}` };
  }
  const settings = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  return { settings: settings as EcrRepositorySettings };
}

/**
 * Error names of the Lambda service and runtime as Step Functions reports them for a task, which
 * the run workflow's Retry and Catch match and RecordFailure turns into a message. A function that
 * times out is reported as `Sandbox.Timedout` (or `Lambda.Unknown` with "Task timed out" in the
 * cause), one that runs out of memory as `Runtime.OutOfMemory` (or `Lambda.Unknown`), a task state
 * past its own TimeoutSeconds as `States.Timeout`; Lambda's throttling as
 * `Lambda.TooManyRequestsException`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 */
export const LambdaErrors = {
  timeout: ['Sandbox.Timedout', 'States.Timeout'],
  outOfMemory: ['Runtime.OutOfMemory'],
  /** Unhandled: a timeout, an out-of-memory kill or a crash; the cause tells which. */
  unknown: 'Lambda.Unknown',
  throttled: ['Lambda.TooManyRequestsException'],
  /** Transient failures of the Lambda service itself (500s of Invoke). */
  service: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.ClientExecutionTimeoutException',
  ],
} as const;

/**
 * How many times the workflow invokes CopyImage for one image that keeps answering `continue`
 * (a huge layer resumed across invocations) before it records the image failed: each invocation is
 * at most one Lambda timeout long, so this bounds one image's copy at about this many × 15 minutes.
 */
export const maxCopyInvocations = 24;

/** The error the workflow records when an image used up {@link maxCopyInvocations}. */
export const copyInvocationsExceeded = 'Ferry.CopyInvocationsExceeded';
