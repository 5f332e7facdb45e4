import { ArnFormat, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { Env } from '../functions/aws/table.js';
import { runSecretPrefix } from '../functions/aws/secrets-vault.js';
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
      [Env.tableName]: table.tableName, [Env.retentionDays]: String(config.retentionDays), FERRY_ACCOUNT_ID: this.account,
      FERRY_ECR_REPOSITORIES: JSON.stringify(config.ecrRepositories),
      [Env.allowPrivateNetworks]: JSON.stringify(config.allowPrivateRegistries),
    };
    const fn = (id: string, entry: string, task: string, extra: Partial<ConstructorParameters<typeof FerryFunction>[2]> = {}) =>
      new FerryFunction(this, id, { entry, task, logRetention, environment: common, ...extra });

    const plan = fn('PlanRun', 'workflow/plan-run', 'plan', { timeout: Duration.minutes(5), memorySize: 512 });
    // Large layers stream for minutes; memory buys network and CPU for hashing.
    const copyImage = fn('CopyImage', 'workflow/copy-image', 'copyImage', { timeout: Duration.minutes(15), memorySize: 1024 });
    const recordFailure = fn('RecordFailure', 'workflow/record-failure', 'recordFailure');
    const finish = fn('FinishRun', 'workflow/finish-run', 'finish', { timeout: Duration.minutes(2) });
    const workflow = new RunWorkflow(this, 'Workflow', { plan, copyImage, recordFailure, finish, mapConcurrency: config.mapConcurrency, logRetention });
    this.workflow = workflow;

    const apiHandler = fn('Api', 'api/index', 'api', { environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn } });
    const scheduled = fn('ScheduledRun', 'events/scheduled-run', 'scheduledRun', { environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn } });
    const syncRequest = fn('SyncRequest', 'events/sync-request', 'syncRequest', { environment: { ...common, [Env.stateMachineArn]: workflow.stateMachine.stateMachineArn } });
    const bus = new SyncBus(this, 'Events', { handler: syncRequest, trustedAccounts: config.trustedAccounts, ...(config.trustedOrganizationId ? { trustedOrganizationId: config.trustedOrganizationId } : {}) });
    finish.addEnvironment(Env.eventBusName, bus.bus.eventBusName);
    bus.bus.grantPutEventsTo(finish);

    // Least privilege: each function gets the table access and secrets it uses.
    for (const f of [apiHandler, scheduled, syncRequest]) {
      table.grantReadWriteData(f);
      workflow.stateMachine.grantStartExecution(f);
      f.addToRolePolicy(new PolicyStatement({
        actions: ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
        resources: [this.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: `${runSecretPrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }));
    }
    workflow.stateMachine.grant(apiHandler, 'states:StopExecution');
    for (const f of [plan, copyImage, recordFailure, finish]) table.grantReadWriteData(f);
    // ECR: tokens (no resource-level permission exists), then pull/push/create only on repositories under the configured prefixes.
    const repositoryArns = config.ecrRepositoryPrefixes.map((prefix) => this.formatArn({ service: 'ecr', region: '*', resource: 'repository', resourceName: prefix.endsWith('*') ? prefix : `${prefix}*` }));
    for (const f of [plan, copyImage]) {
      f.addToRolePolicy(new PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
      f.addToRolePolicy(new PolicyStatement({
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:DescribeImages', 'ecr:InitiateLayerUpload',
          'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage', 'ecr:CreateRepository', 'ecr:PutLifecyclePolicy', 'ecr:TagResource'],
        resources: repositoryArns,
      }));
      if (config.assumableRoles.length > 0) f.addToRolePolicy(new PolicyStatement({ actions: ['sts:AssumeRole'], resources: config.assumableRoles }));
      f.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [this.formatArn({ service: 'secretsmanager', resource: 'secret', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }));
    }

    this.api = new FerryApi(this, 'Http', {
      handler: apiHandler, trustedAccounts: config.trustedAccounts, logRetention,
      ...(config.trustedOrganizationId ? { trustedOrganizationId: config.trustedOrganizationId } : {}),
    });
    new Schedules(this, 'Schedules', { handler: scheduled, schedules: config.schedules });
    const logicalId = (c: { node: { defaultChild?: unknown } }): string => this.getLogicalId(c.node.defaultChild as never);
    acknowledgeNagFindings(this, {
      table: logicalId(table),
      functions: Object.fromEntries([plan, copyImage, recordFailure, finish].map((f) => [f.node.id, logicalId(f)])),
      stateMachine: logicalId(workflow.stateMachine),
      ecrRepositoryPrefixes: config.ecrRepositoryPrefixes,
    });
  }
}
