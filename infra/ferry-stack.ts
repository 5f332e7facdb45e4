import { ArnFormat, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  Env,
  ecrRepositoryPattern,
  formatEcrRepositoryPrefixes,
  registryTag,
  runSecretPrefix,
} from '../functions/contract.js';
import type { FerryConfig } from './config.js';
import { FerryApi } from './constructs/ferry-api.js';
import { FerryFunction } from './constructs/ferry-function.js';
import { RunTable } from './constructs/run-table.js';
import { RunWorkflow } from './constructs/run-workflow.js';
import { Schedules } from './constructs/schedules.js';
import { SyncBus } from './constructs/sync-bus.js';
import { acknowledgeNagFindings } from './nag.js';

export interface FerryStackProps extends StackProps {
  readonly config: FerryConfig;
}

/** Ferry: API → runs in DynamoDB → Step Functions Map of copy-image Lambdas. The stack only composes. */
export class FerryStack extends Stack {
  readonly api: FerryApi;
  readonly workflow: RunWorkflow;

  constructor(scope: Construct, id: string, props: FerryStackProps) {
    super(scope, id, props);
    const { config } = props;
    const logRetention = config.logRetentionDays as RetentionDays;
    const table = new RunTable(this, 'Runs').table;
    const common = {
      [Env.tableName]: table.tableName,
      [Env.retentionDays]: String(config.retentionDays),
      [Env.accountId]: this.account,
      [Env.ecrRepositories]: JSON.stringify(config.ecrRepositories),
      [Env.ecrRepositoryPrefixes]: formatEcrRepositoryPrefixes(config.ecrRepositoryPrefixes),
      [Env.allowPrivateNetworks]: JSON.stringify(config.allowPrivateRegistries),
      ...(config.openshift.updateGraphUrl ? { [Env.updateUrlOverride]: config.openshift.updateGraphUrl } : {}),
      ...(config.openshift.releaseSignaturesUrl
        ? { [Env.releaseSignaturesUrl]: config.openshift.releaseSignaturesUrl }
        : {}),
    };
    const fn = (
      id: string,
      entry: string,
      task: string,
      extra: Partial<ConstructorParameters<typeof FerryFunction>[2]> = {},
    ) => new FerryFunction(this, id, { entry, task, logRetention, environment: common, ...extra });

    // Plan lists the tags of image sets and carries out prune runs: it may take minutes.
    const plan = fn('PlanRun', 'workflow/plan-run', 'plan', { timeout: Duration.minutes(15), memorySize: 512 });
    // Large layers stream for minutes; memory buys network and CPU for hashing.
    const copyImageLimits = { timeout: Duration.minutes(15), memoryMB: 1024 };
    const copyImage = fn('CopyImage', 'workflow/copy-image', 'copyImage', {
      timeout: copyImageLimits.timeout,
      memorySize: copyImageLimits.memoryMB,
    });
    const recordFailure = fn('RecordFailure', 'workflow/record-failure', 'recordFailure');
    // Finish pushes a run's rebuilt operator catalogs (issue 10): the catalog image copied by digest
    // (hundreds of MB for a large index) and its rebuilt layers built in memory, as a copy does.
    const finish = fn('FinishRun', 'workflow/finish-run', 'finish', {
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    // Registry traffic (Plan's preflight and resolution, the copies, Finish's catalogs) goes through the operator's proxy, if any.
    const registryClients = [plan, copyImage, finish];
    const proxy = config.proxy;
    if (proxy) {
      const env = { HTTPS_PROXY: proxy.httpsProxy, HTTP_PROXY: proxy.httpProxy, NO_PROXY: proxy.noProxy };
      for (const f of registryClients)
        for (const [name, value] of Object.entries(env)) if (value !== undefined) f.addEnvironment(name, value);
    }
    const workflow = new RunWorkflow(this, 'Workflow', {
      plan,
      copyImage,
      copyImageLimits,
      recordFailure,
      finish,
      mapConcurrency: config.mapConcurrency,
      logRetention,
    });
    this.workflow = workflow;

    const apiHandler = fn('Api', 'api/index', 'api', {
      environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn },
      ...(config.api.reservedConcurrency === null
        ? {}
        : { reservedConcurrentExecutions: config.api.reservedConcurrency }),
    });
    const scheduled = fn('ScheduledRun', 'events/scheduled-run', 'scheduledRun', {
      environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn },
    });
    const syncRequest = fn('SyncRequest', 'events/sync-request', 'syncRequest', {
      environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn },
    });
    const bus = new SyncBus(this, 'Events', {
      handler: syncRequest,
      trustedAccounts: config.trustedAccounts,
      ...(config.trustedOrganizationId ? { trustedOrganizationId: config.trustedOrganizationId } : {}),
    });
    finish.addEnvironment(Env.eventBusName, bus.bus.eventBusName);
    bus.bus.grantPutEventsTo(finish);

    // Least privilege: each function gets the table access and secrets it uses.
    const secretArn = (name: string): string =>
      this.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const runSecrets = secretArn(`${runSecretPrefix}*`);
    for (const f of [apiHandler, scheduled, syncRequest]) {
      table.grantReadWriteData(f);
      workflow.stateMachine.grantStartExecution(f);
      // Inline credentials become run-scoped secrets; these roles may create them, never read or delete them.
      f.addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
          resources: [runSecrets],
        }),
      );
    }
    workflow.stateMachine.grant(apiHandler, 'states:StopExecution');
    for (const f of [plan, copyImage, recordFailure, finish]) table.grantReadWriteData(f);
    // Registry credentials: Ferry's own run secrets, secrets the operator tagged `ferry:registry`, and the ARNs the config lists.
    // Nothing else: a caller naming another secret (a database password) gets AccessDenied.
    const readSecret = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'];
    for (const f of registryClients) {
      f.addToRolePolicy(new PolicyStatement({ actions: readSecret, resources: [runSecrets] }));
      f.addToRolePolicy(
        new PolicyStatement({
          actions: readSecret,
          resources: [secretArn('*')],
          conditions: { Null: { [`secretsmanager:ResourceTag/${registryTag}`]: 'false' } },
        }),
      );
      if (config.registrySecretArns.length > 0)
        f.addToRolePolicy(new PolicyStatement({ actions: readSecret, resources: config.registrySecretArns }));
      if (config.registrySecretKmsKeyArns.length > 0) {
        f.addToRolePolicy(
          new PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: config.registrySecretKmsKeyArns,
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${this.region}.amazonaws.com` } },
          }),
        );
      }
    }
    // Run secrets are deleted when the run finishes and by the sweep; only names under ferry/runs/ may be deleted.
    const sweep = fn('SweepSecrets', 'events/sweep-secrets', 'sweepSecrets', {
      timeout: Duration.minutes(5),
      environment: { ...common, [Env.runSecretMaxAgeHours]: String(config.runSecretMaxAgeHours) },
    });
    table.grantReadData(sweep);
    for (const f of [finish, sweep]) {
      f.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
      f.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:DeleteSecret'], resources: [runSecrets] }));
    }
    new Rule(this, 'SweepSchedule', {
      description: 'Delete run secrets of runs that never finished',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(sweep, { retryAttempts: 0 })],
    });
    // ECR: only repositories under the configured prefixes (none configured: no ECR access at all).
    const repositoryArns = config.ecrRepositoryPrefixes.map((prefix) =>
      this.formatArn({
        service: 'ecr',
        region: '*',
        resource: 'repository',
        resourceName: ecrRepositoryPattern(prefix),
      }),
    );
    for (const f of registryClients) {
      if (repositoryArns.length > 0) {
        // Tokens: no resource-level permission exists. Pull/push/create only on the prefixes.
        f.addToRolePolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
        f.addToRolePolicy(
          new PolicyStatement({
            actions: [
              'ecr:BatchCheckLayerAvailability',
              'ecr:GetDownloadUrlForLayer',
              'ecr:BatchGetImage',
              'ecr:DescribeImages',
              'ecr:InitiateLayerUpload',
              'ecr:UploadLayerPart',
              'ecr:CompleteLayerUpload',
              'ecr:PutImage',
              'ecr:CreateRepository',
              'ecr:PutLifecyclePolicy',
              'ecr:TagResource',
            ],
            resources: repositoryArns,
          }),
        );
      }
      if (config.assumableRoles.length > 0)
        f.addToRolePolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: config.assumableRoles }));
    }
    // Prune runs (issue 9) list destination tags and delete the manifests their set no longer
    // selects, in the Plan task only, and only under the prefixes.
    if (repositoryArns.length > 0)
      plan.addToRolePolicy(
        new PolicyStatement({ actions: ['ecr:ListImages', 'ecr:BatchDeleteImage'], resources: repositoryArns }),
      );

    this.api = new FerryApi(this, 'Http', {
      handler: apiHandler,
      trustedAccounts: config.trustedAccounts,
      logRetention,
      throttle: { rateLimit: config.api.rateLimit, burstLimit: config.api.burstLimit },
      ...(config.trustedOrganizationId ? { trustedOrganizationId: config.trustedOrganizationId } : {}),
    });
    const schedules = new Schedules(this, 'Schedules', { handler: scheduled, schedules: config.schedules });
    // Stored image sets with a `schedule` get a Scheduler schedule each, kept by the API.
    schedules.grantSetSchedules(apiHandler);
    const logicalId = (c: { node: { defaultChild?: unknown } }): string =>
      this.getLogicalId(c.node.defaultChild as never);
    acknowledgeNagFindings(this, {
      table: logicalId(table),
      functions: Object.fromEntries([plan, copyImage, recordFailure, finish].map((f) => [f.node.id, logicalId(f)])),
      stateMachine: logicalId(workflow.stateMachine),
      ecrRepositoryPrefixes: config.ecrRepositoryPrefixes,
      registrySecretArns: config.registrySecretArns,
      setScheduleGroup: schedules.setGroupName,
    });
  }
}
