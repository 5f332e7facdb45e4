import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { DynamoBlobIndex } from '../aws/dynamo-blob-index.js';
import { DynamoImageSets } from '../aws/dynamo-image-sets.js';
import { DynamoPullBudgetStore } from '../aws/dynamo-pull-budget.js';
import { DynamoRunStore } from '../aws/dynamo-run-store.js';
import { EcrAccessFactory } from '../aws/ecr-access.js';
import { EventBridgePublisher } from '../aws/eventbridge-publisher.js';
import { SchedulerSets } from '../aws/scheduler-sets.js';
import { SecretsManagerVault } from '../aws/secrets-vault.js';
import { StepFunctionsWorkflow } from '../aws/sfn-workflow.js';
import { Env, parseEcrRepositorySettings } from '../contract.js';
import { ecrHostFor } from '../oci/ecr-host.js';
import type { Logger } from '../oci/log.js';
import { NetworkGuard } from '../oci/network-guard.js';
import { proxySettingsFromEnv } from '../oci/proxy.js';
import { createRunServices, type RunServices } from '../runs/app.js';
import { EcrScope, parseEcrRepositoryPrefixes } from '../runs/ecr-scope.js';
import { EngineFactory } from '../runs/engine.js';
import { ImageSetService } from '../runs/image-sets.js';
import { SettingsService } from '../runs/settings.js';
import type { SetServices } from './api/image-sets.js';

const envSchema = z.object({
  [Env.tableName]: z.string().min(1),
  [Env.stateMachineArn]: z.string().optional(),
  [Env.eventBusName]: z.string().optional(),
  [Env.retentionDays]: z.coerce.number().optional(),
  [Env.allowPrivateNetworks]: z.string().optional(),
  AWS_REGION: z.string().optional(),
  [Env.accountId]: z.string().optional(),
  /** Comma-separated ECR repository prefixes (parseEcrRepositoryPrefixes); absent: no limit. */
  [Env.ecrRepositoryPrefixes]: z.string().optional(),
  [Env.runSecretMaxAgeHours]: z.coerce.number().positive().optional(),
  /** The OpenShift update graph for `mirror.platform.channels` (oc-mirror's variable); absent: api.openshift.com. */
  [Env.updateUrlOverride]: z.string().url().optional(),
  /** The release signature store (oc-mirror's default: …/pub/openshift-v4/signatures/openshift/release); absent: none fetched. */
  [Env.releaseSignaturesUrl]: z.string().url().optional(),
  /** Image-set schedules: set on the API function only (the others never PUT or DELETE a set). */
  [Env.setScheduleGroup]: z.string().min(1).optional(),
  [Env.setScheduleTargetArn]: z.string().min(1).optional(),
  [Env.setScheduleRoleArn]: z.string().min(1).optional(),
  /** JSON EcrRepositorySettings for repositories Ferry creates. */
  [Env.ecrRepositories]: z
    .string()
    .default('{}')
    .transform((text, ctx) => {
      const parsed = parseEcrRepositorySettings(JSON.parse(text));
      if ('settings' in parsed) return parsed.settings;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
});

/** JSON lines for CloudWatch; never credentials (none reach the logger). */
export const lambdaLogger: Logger = {
  debug: () => {},
  info: (message, fields) => console.info(JSON.stringify({ message, ...fields })),
  warn: (message, fields) => console.warn(JSON.stringify({ message, ...fields })),
};

/** What the Lambdas share: the use cases, and the pieces the secret sweep needs. */
export interface LambdaServices extends Pick<RunServices, 'service' | 'tasks' | 'outputs'> {
  readonly sweep: { readonly vault: SecretsManagerVault; readonly store: DynamoRunStore; readonly maxAgeHours: number };
  /** Stored image sets and settings (the API's `/v1/image-sets`, `/v1/settings`). */
  readonly sets: SetServices;
}

let services: LambdaServices | undefined;

/**
 * The Lambda composition root: SDK clients, adapters and use cases built once per container
 * (module scope, reused across invocations), from the environment the stack sets.
 */
export function lambdaServices(): LambdaServices {
  if (services) return services;
  const env = envSchema.parse(process.env);
  const dynamo = new DynamoDBClient({});
  const store = new DynamoRunStore({
    client: dynamo,
    tableName: env[Env.tableName],
    retentionDays: env[Env.retentionDays] ?? 30,
  });
  const imageSets = new DynamoImageSets({ client: dynamo, name: env[Env.tableName] });
  const vault = new SecretsManagerVault(new SecretsManagerClient({}));
  const stateMachineArn = env[Env.stateMachineArn];
  const workflow = new StepFunctionsWorkflow(new SFNClient({}), stateMachineArn ?? 'unset');
  // The deployed service never reaches loopback, link-local or private addresses unless allow-listed.
  const guard = new NetworkGuard(z.array(z.string()).parse(JSON.parse(env[Env.allowPrivateNetworks] ?? '[]')));
  const ecr = new EcrAccessFactory(env[Env.ecrRepositories]);
  const prefixes = env[Env.ecrRepositoryPrefixes];
  const ecrScope = prefixes === undefined ? undefined : new EcrScope(parseEcrRepositoryPrefixes(prefixes));
  const blobIndex = new DynamoBlobIndex({ client: dynamo, tableName: env[Env.tableName] });
  const engines = new EngineFactory({
    vault,
    logger: lambdaLogger,
    ecr: (roleArn) => ecr.forRole(roleArn),
    // Registry traffic honours HTTPS_PROXY/HTTP_PROXY/NO_PROXY set on the function; the guard checks targets, not the proxy.
    transport: { guard, proxy: proxySettingsFromEnv(process.env) },
    // Each image is its own Lambda: a layer another Lambda put (or is putting) into a sibling repository is mounted, not streamed again.
    sharedBlobs: { index: blobIndex, leases: blobIndex },
    // Every Lambda spends the same upstream pull budgets (Docker Hub's rate limit): kept in the run table.
    pullBudget: { store: new DynamoPullBudgetStore({ client: dynamo, tableName: env[Env.tableName] }) },
    ...(ecrScope ? { ecrScope } : {}),
    ...(env[Env.updateUrlOverride] ? { updateGraphUrl: env[Env.updateUrlOverride] } : {}),
    ...(env[Env.releaseSignaturesUrl] ? { releaseSignaturesUrl: env[Env.releaseSignaturesUrl] } : {}),
  });
  const events = new EventBridgePublisher(new EventBridgeClient({}), env[Env.eventBusName] ?? 'default');
  const account = env[Env.accountId];
  const home =
    account && env.AWS_REGION
      ? {
          registry: ecrHostFor(account, env.AWS_REGION),
          registryForRegion: (region: string) => ecrHostFor(account, region),
        }
      : undefined;
  const { service, tasks, outputs } = createRunServices({
    store,
    vault,
    workflow,
    events,
    engines,
    logger: lambdaLogger,
    settings: imageSets,
    imageSets,
    ...(home ? { home } : {}),
    ...(ecrScope ? { ecrScope } : {}),
  });
  const scheduleGroup = env[Env.setScheduleGroup];
  const scheduleTarget = env[Env.setScheduleTargetArn];
  const scheduleRole = env[Env.setScheduleRoleArn];
  const setSchedules =
    scheduleGroup && scheduleTarget && scheduleRole
      ? new SchedulerSets(new SchedulerClient({}), {
          groupName: scheduleGroup,
          targetArn: scheduleTarget,
          roleArn: scheduleRole,
        })
      : undefined;
  services = {
    service,
    tasks,
    outputs,
    sweep: { vault, store, maxAgeHours: env[Env.runSecretMaxAgeHours] ?? 72 },
    sets: {
      imageSets: new ImageSetService(imageSets, () => new Date(), setSchedules),
      settings: new SettingsService(imageSets),
    },
  };
  return services;
}
