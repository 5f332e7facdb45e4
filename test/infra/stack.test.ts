import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { RetryableErrorNames } from '../../functions/oci/errors.js';
import { createApp } from '../../infra/app.js';
import { extractWorkflowDefinition } from '../../infra/workflow-definition.js';

const config = {
  trustedAccounts: ['111122223333'],
  trustedOrganizationId: 'o-abcdefghij',
  mapConcurrency: 7,
  ecrRepositoryPrefixes: ['mirror/'],
  assumableRoles: ['arn:aws:iam::444455556666:role/ferry-push'],
  ecrRepositories: { tagMutability: 'IMMUTABLE', scanOnPush: true },
  schedules: [{ name: 'nightly', expression: 'cron(0 3 * * ? *)', run: { images: ['docker.io/library/busybox:1.36'], destination: { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', prefix: 'mirror' } } }],
};

let template: Template;
let definition: Record<string, unknown>;
beforeAll(() => {
  const { app, stack } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ferry: config } }));
  // cdk-nag (AwsSolutions) runs as a validation plugin: any unacknowledged finding makes synth throw.
  const assembly = app.synth();
  template = Template.fromStack(stack);
  definition = extractWorkflowDefinition(assembly.getStackByName(stack.stackName).template as never) as Record<string, unknown>;
}, 120_000);

describe('FerryStack', () => {
  it('synthesizes offline with every cdk-nag AwsSolutions finding acknowledged', () => {
    expect(Object.keys(template.toJSON().Resources).length).toBeGreaterThan(20);
  });

  it('runs every Lambda on Node 24 / arm64 with tracing, explicit memory and timeout, and retained logs', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const ferry = Object.values(functions).filter((f) => (f.Properties.Environment?.Variables ?? {}).FERRY_TASK !== undefined);
    expect(ferry.length).toBe(7);
    for (const f of ferry) {
      expect(f.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], TracingConfig: { Mode: 'Active' } });
      expect(f.Properties.MemorySize).toBeGreaterThanOrEqual(256);
      expect(f.Properties.Timeout).toBeGreaterThan(0);
    }
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ FERRY_TASK: 'copyImage' }) }, Timeout: 900, MemorySize: 1024 });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('keeps run state in DynamoDB with PITR, encryption and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it('defines Plan → Map (inline and Distributed) → Finish with typed retries and a catch per image', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(definition.StartAt).toBe('Plan');
    expect(states.CopyImages).toMatchObject({ Type: 'Map', MaxConcurrency: 7, ItemsPath: '$.plan.indexes', ResultPath: null });
    expect(states.CopyImagesAtScale).toMatchObject({ Type: 'Map', MaxConcurrency: 7, ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } } });
    const inner = (states.CopyImages!.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(inner.InlineCopyImage!.Retry).toContainEqual(expect.objectContaining({ ErrorEquals: [...RetryableErrorNames, 'States.Timeout'], MaxAttempts: 3, BackoffRate: 2, JitterStrategy: 'FULL' }));
    expect(inner.InlineCopyImage!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'InlineRecordFailure' }]);
    expect(inner.InlineStopOnFailure).toMatchObject({ Type: 'Choice' });
    expect(states.Finish).toMatchObject({ Type: 'Task', Resource: 'arn:aws:lambda:local:000000000000:function:ferry-finish' });
  });

  it('protects the API with IAM auth and a resource policy for this account, the trusted account and the organization', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod !== 'OPTIONS');
    expect(methods).toHaveLength(6);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    const api = Object.values(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
    const statements = api.Properties.Policy.Statement as { Condition: Record<string, Record<string, unknown>> }[];
    expect(JSON.stringify(statements[0]!.Condition.StringEquals!['aws:PrincipalAccount'])).toContain('111122223333');
    expect(statements[1]!.Condition.StringEquals!['aws:PrincipalOrgID']).toBe('o-abcdefghij');
  });

  it('declares configured schedules and lets trusted accounts put sync requests on the bus', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'ferry-nightly', ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: Match.objectLike({ Input: Match.stringLikeRegexp('"schedule":"nightly"') }),
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', { Action: 'events:PutEvents', Principal: '111122223333' });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', { Statement: Match.objectLike({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }) });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'detail-type': ['Ferry Sync Requested'] } });
  });

  it('grants least privilege: no wildcard actions, secrets scoped, the API may only start and stop its state machine', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()));
    expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
    const byRole = (fragment: string) => policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(fragment)).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const api = byRole('ApiServiceRole');
    expect(api.some((s) => [s.Action].flat().includes('states:StartExecution'))).toBe(true);
    expect(api.some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toBe(false);
    const create = api.find((s) => [s.Action].flat().includes('secretsmanager:CreateSecret'))!;
    expect(JSON.stringify(create.Resource)).toContain('secret:ferry/runs/*');
    const copy = byRole('CopyImageServiceRole');
    expect(copy.some((s) => [s.Action].flat().includes('states:StartExecution'))).toBe(false);
    expect(copy.some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toBe(true);
  });

  it('gives the copy function exactly the ECR actions it needs, on repositories under the configured prefixes', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('CopyImageServiceRole'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const token = statements.find((s) => [s.Action].flat().includes('ecr:GetAuthorizationToken'))!;
    expect(token).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    const push = statements.find((s) => [s.Action].flat().includes('ecr:PutImage'))!;
    expect([push.Action].flat()).toEqual(expect.arrayContaining(['ecr:CreateRepository', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchGetImage']));
    expect(JSON.stringify(push.Resource)).toContain(':repository/mirror/*');
    expect(JSON.stringify(push.Resource)).not.toContain(':repository/*"');
    expect(statements.find((s) => [s.Action].flat().includes('sts:AssumeRole'))).toMatchObject({ Resource: 'arn:aws:iam::444455556666:role/ferry-push' });
    const api = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => JSON.stringify(p.Properties.Roles).includes('ApiServiceRole'));
    expect(JSON.stringify(api)).not.toContain('ecr:');
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ FERRY_TASK: 'copyImage', FERRY_ECR_REPOSITORIES: '{"tagMutability":"IMMUTABLE","scanOnPush":true}' }) } });
  });
});
