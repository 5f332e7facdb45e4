import { App, Stack } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { routePath } from '../../functions/handlers/api/stage.js';
import { RetryableErrorNames } from '../../functions/oci/errors.js';
import { EcrScope } from '../../functions/runs/ecr-scope.js';
import { setScheduleRetryPolicy } from '../../functions/runs/set-scheduler.js';
import { createApp } from '../../infra/app.js';
import { scheduleRetryPolicy } from '../../infra/constructs/schedules.js';
import { parseFerryConfig } from '../../infra/config.js';
import { extractWorkflowDefinition } from '../../infra/workflow-definition.js';

const config = {
  trustedAccounts: ['111122223333'],
  trustedOrganizationId: 'o-abcdefghij',
  mapConcurrency: 7,
  ecrRepositoryPrefixes: ['mirror/', 'team-*/cache/'],
  registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry/quay-*'],
  registrySecretKmsKeyArns: ['arn:aws:kms:eu-west-1:123456789012:key/0f0e0d0c-0000-4000-8000-000000000000'],
  api: { rateLimit: 5, burstLimit: 9, reservedConcurrency: 3 },
  assumableRoles: ['arn:aws:iam::444455556666:role/ferry-push'],
  allowPrivateRegistries: ['registry.internal', '10.20.0.0/16'],
  proxy: { httpsProxy: 'http://proxy.corp.example:3128', noProxy: '.corp.example,10.0.0.0/8' },
  ecrRepositories: { tagMutability: 'IMMUTABLE', scanOnPush: true },
  openshift: {
    updateGraphUrl: 'https://updates.corp.example/graph',
    releaseSignaturesUrl: 'https://mirror.corp.example/signatures/openshift/release',
  },
  schedules: [
    {
      name: 'nightly',
      expression: 'cron(0 3 * * ? *)',
      run: {
        images: ['docker.io/library/busybox:1.36'],
        destination: { registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', prefix: 'mirror' },
      },
    },
  ],
};

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

/** An ARN as the template writes it (a string, or `Fn::Join` over pseudo-parameter `Ref`s) as one string: `${AWS::Region}`. */
function renderArn(resource: unknown): string {
  if (typeof resource === 'string') return resource;
  const join = (resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  const ref = (resource as { Ref?: string }).Ref;
  if (ref !== undefined) return `\${${ref}}`;
  if (join === undefined) throw new Error(`unexpected resource ${JSON.stringify(resource)}`);
  return join[1].map(renderArn).join(join[0]);
}

let template: Template;
let definition: Record<string, unknown>;
beforeAll(() => {
  const { app, stack } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [], ferry: config } }));
  // cdk-nag (AwsSolutions) runs as a validation plugin: any unacknowledged finding makes synth throw.
  const assembly = app.synth();
  template = Template.fromStack(stack);
  definition = extractWorkflowDefinition(assembly.getStackByName(stack.stackName).template as never) as Record<
    string,
    unknown
  >;
}, 120_000);

describe('FerryStack', () => {
  it('synthesizes offline with every cdk-nag AwsSolutions finding acknowledged (beforeAll synthesized it)', () => {
    // The synth passing proves the claim only if cdk-nag runs: the 'cdk-nag is wired' test below shows it does.
    expect(definition).toHaveProperty('States');
    expect(template.findResources('AWS::Lambda::Function')).not.toEqual({});
  });

  it('runs every Lambda on Node 24 / arm64 with tracing, explicit memory and timeout, and retained logs', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const ferry = Object.values(functions).filter(
      (f) => (f.Properties.Environment?.Variables ?? {}).FERRY_TASK !== undefined,
    );
    expect(ferry.length).toBe(8);
    for (const f of ferry) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(f.Properties.MemorySize).toBeGreaterThanOrEqual(256);
      expect(f.Properties.Timeout).toBeGreaterThan(0);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FERRY_TASK: 'copyImage' }) },
      Timeout: 900,
      MemorySize: 1024,
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('keeps run state in DynamoDB with PITR, encryption and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true },
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
  });

  it("indexes image items by run and status, so a run's failed images are read without reading the run", () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: 'byImageStatus',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('defines Plan → Map (inline and Distributed) → Finish with typed retries and a catch per image', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(definition.StartAt).toBe('Plan');
    expect(states.CopyImages).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 7,
      ItemsPath: '$.plan.indexes',
      ResultPath: null,
    });
    expect(states.CopyImagesAtScale).toMatchObject({
      Type: 'Map',
      MaxConcurrency: 7,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
    const inner = (states.CopyImages!.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
    expect(inner.InlineCopyImage!.Retry).toContainEqual(
      expect.objectContaining({
        ErrorEquals: [...RetryableErrorNames],
        MaxAttempts: 3,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      }),
    );
    expect(inner.InlineCopyImage!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'InlineRecordFailure' },
    ]);
    expect(inner.InlineNextStep).toMatchObject({ Type: 'Choice' });
    expect(states.Finish).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:lambda:local:000000000000:function:ferry-finish',
    });
  });

  it('always finalises a run: Finish is retried, then caught by FinishFailed (same function, given the error), which ends failed and cannot loop', () => {
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.Finish!.Retry).toContainEqual(
      expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 2 }),
    );
    expect(states.Finish!.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.finishError', Next: 'FinishFailed' },
    ]);
    expect(states.FinishFailed).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:lambda:local:000000000000:function:ferry-finish',
      Parameters: { 'runId.$': '$.runId', 'finishError.$': '$.finishError' },
      Next: 'RunNotFinished',
    });
    expect(states.FinishFailed!.Catch).toBeUndefined();
    expect(states.RunNotFinished).toMatchObject({ Type: 'Fail', Error: 'FinishFailed' });
    // Every way out of the Maps and Plan reaches Finish.
    for (const name of ['CopyImages', 'CopyImagesAtScale', 'Plan'])
      expect(states[name]!.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'Finish' })]);
  });

  it('stops a failFast Distributed Map at its first failed child: the tolerated percentage comes from Plan', () => {
    const states = definition.States as Record<string, Record<string, unknown>>;
    expect(states.CopyImagesAtScale).toMatchObject({
      ToleratedFailurePercentagePath: '$.plan.toleratedFailurePercentage',
    });
    expect(states.CopyImagesAtScale).not.toHaveProperty('ToleratedFailurePercentage');
  });

  it('handles the Lambda service’s own failures by name, and loops CopyImage on "continue" up to a bound', () => {
    const states = definition.States as Record<string, Record<string, unknown>>;
    for (const [map, prefix] of [
      ['CopyImages', 'Inline'],
      ['CopyImagesAtScale', 'Distributed'],
    ] as const) {
      const inner = (states[map]!.ItemProcessor as { States: Record<string, Record<string, unknown>> }).States;
      const copy = inner[`${prefix}CopyImage`]!;
      expect(copy.Retry).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ ErrorEquals: ['Lambda.TooManyRequestsException'], BackoffRate: 2, MaxAttempts: 8 }),
          expect.objectContaining({ ErrorEquals: ['Sandbox.Timedout', 'States.Timeout'], MaxAttempts: 1 }),
        ]),
      );
      // Out of memory and Lambda.Unknown are not retried: RecordFailure names them at once.
      const retried = (copy.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);
      expect(retried).not.toContain('Runtime.OutOfMemory');
      expect(retried).not.toContain('Lambda.Unknown');
      expect(inner[`${prefix}RecordFailure`]).toMatchObject({
        Parameters: { 'error.$': '$.error', limits: { timeoutSeconds: 900, memoryMB: 1024 } },
      });
      const choices = (inner[`${prefix}NextStep`]!.Choices as { Next: string }[]).map((c) => c.Next);
      expect(choices.slice(0, 2)).toEqual([`${prefix}CopyImage`, `${prefix}InvocationsExhausted`]);
      expect(inner[`${prefix}InvocationsExhausted`]).toMatchObject({
        Type: 'Pass',
        Result: { Error: 'Ferry.CopyInvocationsExceeded' },
        Next: `${prefix}RecordFailure`,
      });
    }
  });

  it('protects the API with IAM auth and a resource policy for this account, the trusted account and the organization', () => {
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    // Runs, sync_images, issue 9's image sets, settings and run outputs, and issue 11's run images: every one IAM-authenticated.
    expect(methods).toHaveLength(18);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
    const api = Object.values(template.findResources('AWS::ApiGateway::RestApi'))[0]!;
    const statements = api.Properties.Policy.Statement as { Condition: Record<string, Record<string, unknown>> }[];
    expect(JSON.stringify(statements[0]!.Condition.StringEquals!['aws:PrincipalAccount'])).toContain('111122223333');
    expect(statements[1]!.Condition.StringEquals!['aws:PrincipalOrgID']).toBe('o-abcdefghij');
  });

  it('declares configured schedules and lets trusted accounts put sync requests on the bus', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'ferry-nightly',
      ScheduleExpression: 'cron(0 3 * * ? *)',
      Target: Match.objectLike({ Input: Match.stringLikeRegexp('"schedule":"nightly"') }),
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Action: 'events:PutEvents',
      Principal: '111122223333',
    });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({ Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abcdefghij' } } }),
    });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { 'detail-type': ['Ferry Sync Requested'] } });
  });

  it("keeps image sets' schedules in one group: the API manages only those, passes only Scheduler's role, to Scheduler only", () => {
    const groups = Object.values(template.findResources('AWS::Scheduler::ScheduleGroup'));
    expect(groups).toHaveLength(1);
    const groupName = groups[0]!.Properties.Name as string;
    expect(groupName).toMatch(/^[0-9A-Za-z_.-]{1,64}$/);
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'));
    const task = (name: string) => functions.find(([, f]) => f.Properties.Environment?.Variables?.FERRY_TASK === name)!;
    const [scheduledId] = task('scheduledRun');
    const roles = Object.entries(
      template.findResources('AWS::IAM::Role', {
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })]),
          },
        },
      }),
    );
    expect(roles).toHaveLength(1);
    const [roleId, role] = roles[0]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
    // The API is told where (and nothing else is).
    expect(task('api')[1].Properties.Environment.Variables).toMatchObject({
      FERRY_SET_SCHEDULE_GROUP: groupName,
      FERRY_SET_SCHEDULE_TARGET_ARN: { 'Fn::GetAtt': [scheduledId, 'Arn'] },
      FERRY_SET_SCHEDULE_ROLE_ARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
    });
    for (const [, f] of functions.filter(([, f]) => f.Properties.Environment?.Variables?.FERRY_TASK !== 'api'))
      expect(f.Properties.Environment?.Variables ?? {}).not.toHaveProperty('FERRY_SET_SCHEDULE_GROUP');
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statements = (fragment: string) =>
      policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(fragment))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    // Scheduler's role may only invoke the scheduled-run function.
    expect(statements(roleId)).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [scheduledId, 'Arn'] } },
    ]);
    const touches = (s: Statement, prefix: string) => [s.Action].flat().some((a) => a.startsWith(prefix));
    const api = statements('ApiServiceRole');
    expect(
      api
        .filter((s) => touches(s, 'scheduler:'))
        .map((s) => ({ actions: [s.Action].flat().sort(), resources: [s.Resource].flat().map(renderArn) })),
    ).toEqual([
      {
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
          'scheduler:UpdateSchedule',
        ],
        resources: [`arn:\${AWS::Partition}:scheduler:\${AWS::Region}:\${AWS::AccountId}:schedule/${groupName}/*`],
      },
    ]);
    expect(api.filter((s) => touches(s, 'iam:'))).toEqual([
      {
        Action: 'iam:PassRole',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [roleId, 'Arn'] },
        Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      },
    ]);
    // No other function may touch schedules or pass roles.
    const others = policies
      .filter((p) => !JSON.stringify(p.Properties.Roles).includes('ApiServiceRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(others.filter((s) => touches(s, 'scheduler:') || touches(s, 'iam:'))).toEqual([]);
    // The deployed schedules retry as image sets' schedules do.
    expect(scheduleRetryPolicy).toEqual(setScheduleRetryPolicy);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } }),
    });
  });

  it('grants least privilege: no wildcard actions, secrets scoped, the API may only start and stop its state machine', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat()),
    );
    expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
    const byRole = (fragment: string) =>
      policies
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(fragment))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const api = byRole('ApiServiceRole');
    expect(api.some((s) => [s.Action].flat().includes('states:StartExecution'))).toBe(true);
    expect(api.some((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toBe(false);
    const create = api.find((s) => [s.Action].flat().includes('secretsmanager:CreateSecret'))!;
    expect(JSON.stringify(create.Resource)).toContain('secret:ferry/runs/*');
    const copy = byRole('CopyImageServiceRole');
    expect(copy.some((s) => [s.Action].flat().includes('states:StartExecution'))).toBe(false);
    // Secrets scoped: every statement that lets the copy function read a secret, whole.
    const reads = copy
      .filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'))
      .map((s) => ({
        actions: [s.Action].flat().sort(),
        resources: [s.Resource].flat().map(renderArn).sort(),
        condition: (s as Statement).Condition,
      }));
    const read = ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'];
    const secrets = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:';
    expect(reads).toEqual(
      expect.arrayContaining([
        { actions: read, resources: [`${secrets}ferry/runs/*`], condition: undefined },
        {
          actions: read,
          resources: [`${secrets}*`],
          condition: { Null: { 'secretsmanager:ResourceTag/ferry:registry': 'false' } },
        },
        { actions: read, resources: [config.registrySecretArns[0]], condition: undefined },
      ]),
    );
    expect(reads).toHaveLength(3);
  });

  it('reads only run secrets, secrets tagged ferry:registry and the configured ARNs: no secret:* read without the tag condition', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
        ...s,
        roles: JSON.stringify(p.Properties.Roles),
      })),
    );
    const reads = statements.filter((s) =>
      [s.Action].flat().some((a) => a === 'secretsmanager:GetSecretValue' || a === 'secretsmanager:DescribeSecret'),
    );
    expect(new Set(reads.map((s) => /"(\w+?)ServiceRole/.exec(s.roles)?.[1]))).toEqual(
      new Set(['PlanRun', 'CopyImage', 'FinishRun']), // Finish pushes rebuilt catalogs (issue 10)
    );
    for (const read of reads) {
      const resources = JSON.stringify(read.Resource);
      if (resources.includes(':secret:*"')) {
        expect(read.Condition).toEqual({ Null: { 'secretsmanager:ResourceTag/ferry:registry': 'false' } });
      } else {
        expect(
          resources.includes(':secret:ferry/runs/*') ||
            resources === '"arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry/quay-*"',
          resources,
        ).toBe(true);
        expect(read.Condition).toBeUndefined();
      }
    }
    // One each for Plan, CopyImage and Finish (its catalogs).
    expect(reads.filter((s) => JSON.stringify(s.Resource).includes('registry/quay-*'))).toHaveLength(3);
    expect(reads.filter((s) => s.Condition !== undefined)).toHaveLength(3);
    // Secrets under a customer managed key: decrypt through Secrets Manager only.
    const decrypts = statements.filter((s) => [s.Action].flat().includes('kms:Decrypt'));
    expect(decrypts).toHaveLength(3);
    for (const d of decrypts) {
      expect(d.Resource).toBe('arn:aws:kms:eu-west-1:123456789012:key/0f0e0d0c-0000-4000-8000-000000000000');
      expect(JSON.stringify(d.Condition)).toContain('kms:ViaService');
    }
  });

  it('deletes run secrets only under ferry/runs/, from Finish and the hourly sweep', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).map((s) => ({
        ...s,
        roles: JSON.stringify(p.Properties.Roles),
      })),
    );
    const deletes = statements.filter((s) =>
      [s.Action]
        .flat()
        .some((a) => a.startsWith('secretsmanager:') && /Delete|PutSecretValue|UpdateSecret|RestoreSecret/.test(a)),
    );
    expect(deletes.length).toBe(2);
    for (const d of deletes) {
      expect(d.Action).toBe('secretsmanager:DeleteSecret');
      expect(d.Resource).toEqual({
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':secret:ferry/runs/*',
          ],
        ],
      });
    }
    expect(deletes.map((d) => /"(\w+?)ServiceRole/.exec(d.roles)?.[1]).sort()).toEqual(['FinishRun', 'SweepSecrets']);
    const creates = statements.filter((s) => [s.Action].flat().includes('secretsmanager:CreateSecret'));
    for (const c of creates) expect(JSON.stringify(c.Resource)).toContain(':secret:ferry/runs/*');
    const sweep = Object.entries(template.findResources('AWS::Lambda::Function')).find(
      ([, f]) => f.Properties.Environment?.Variables?.FERRY_TASK === 'sweepSecrets',
    )!;
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [sweep[0], 'Arn'] } })],
    });
    expect(sweep[1].Properties.Environment.Variables.FERRY_RUN_SECRET_MAX_AGE_HOURS).toBe('72');
  });

  it("serves /v1/runs (stage v1, resources without a second /v1), throttles the stage and reserves the API function's concurrency", () => {
    const resources = template.findResources('AWS::ApiGateway::Resource');
    const pathOf = (id: string): string => {
      const r = resources[id];
      if (!r) return '';
      const parent = r.Properties.ParentId as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return `${parent.Ref ? pathOf(parent.Ref) : ''}/${r.Properties.PathPart as string}`;
    };
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method'))
      .filter((m) => m.Properties.HttpMethod !== 'OPTIONS')
      .map((m) => `${m.Properties.HttpMethod as string} /v1${pathOf((m.Properties.ResourceId as { Ref: string }).Ref)}`)
      .sort();
    expect(methods).toEqual([
      'DELETE /v1/image-sets/{name}',
      'GET /v1/image-sets',
      'GET /v1/image-sets/{name}',
      'GET /v1/runs',
      'GET /v1/runs/{runId}',
      'GET /v1/runs/{runId}/cluster-resources',
      'GET /v1/runs/{runId}/errors',
      'GET /v1/runs/{runId}/idms',
      'GET /v1/runs/{runId}/images',
      'GET /v1/runs/{runId}/itms',
      'GET /v1/runs/{runId}/mapping',
      'GET /v1/runs/{runId}/plan',
      'GET /v1/settings',
      'POST /v1/repos/{namespace}/{repository}/sync_images',
      'POST /v1/runs',
      'POST /v1/runs/{runId}/cancel',
      'PUT /v1/image-sets/{name}',
      'PUT /v1/settings',
    ]);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 9 }),
      ]),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FERRY_TASK: 'api' }) },
      ReservedConcurrentExecutions: 3,
    });
    // API Gateway passes event.path without the stage; the function routes what ferry serve serves.
    expect(['/runs', '/runs/abc/cancel', '/repos/team/app/sync_images', '/v1/runs'].map(routePath)).toEqual([
      '/v1/runs',
      '/v1/runs/abc/cancel',
      '/v1/repos/team/app/sync_images',
      '/v1/runs',
    ]);
  });

  it('gives the copy function exactly the ECR actions it needs, on repositories under the configured prefixes', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('CopyImageServiceRole'),
    );
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
    );
    const token = statements.find((s) => [s.Action].flat().includes('ecr:GetAuthorizationToken'))!;
    expect(token).toMatchObject({ Action: 'ecr:GetAuthorizationToken', Resource: '*' });
    const push = statements.find((s) => [s.Action].flat().includes('ecr:PutImage'))!;
    expect([push.Action].flat()).toEqual(
      expect.arrayContaining([
        'ecr:CreateRepository',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:CompleteLayerUpload',
        'ecr:BatchGetImage',
      ]),
    );
    expect(JSON.stringify(push.Resource)).toContain(':repository/mirror/*');
    expect(JSON.stringify(push.Resource)).not.toContain(':repository/*"');
    expect(statements.find((s) => [s.Action].flat().includes('sts:AssumeRole'))).toMatchObject({
      Resource: 'arn:aws:iam::444455556666:role/ferry-push',
    });
    const api = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('ApiServiceRole'),
    );
    expect(JSON.stringify(api)).not.toContain('ecr:');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          FERRY_TASK: 'copyImage',
          FERRY_ECR_REPOSITORIES: '{"tagMutability":"IMMUTABLE","scanOnPush":true}',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ FERRY_TASK: 'api', FERRY_ECR_REPOSITORY_PREFIXES: 'mirror/,team-*/cache/' }),
      },
    });
  });
  it('tells the functions the OpenShift update graph and release signature store the config names (https only)', () => {
    for (const task of ['plan', 'copyImage'])
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            FERRY_TASK: task,
            UPDATE_URL_OVERRIDE: 'https://updates.corp.example/graph',
            FERRY_RELEASE_SIGNATURES_URL: 'https://mirror.corp.example/signatures/openshift/release',
          }),
        },
      });
    expect(() => parseFerryConfig({ openshift: { releaseSignaturesUrl: 'http://plain.example/sigs' } })).toThrow(
      /must be an https URL/,
    );
  });

  it('lets only the Plan function delete ECR images (prune runs), on repositories under the prefixes', () => {
    const statementsOf = (role: string) =>
      Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const deletes = statementsOf('PlanRunServiceRole').filter((s) =>
      [s.Action].flat().includes('ecr:BatchDeleteImage'),
    );
    expect(deletes).toHaveLength(1);
    expect([deletes[0]!.Action].flat()).toEqual(['ecr:ListImages', 'ecr:BatchDeleteImage']);
    expect(JSON.stringify(deletes[0]!.Resource)).toContain(':repository/mirror/*');
    expect(JSON.stringify(deletes[0]!.Resource)).not.toContain(':repository/*"');
    for (const role of ['CopyImageServiceRole', 'ApiServiceRole', 'FinishRunServiceRole'])
      expect(JSON.stringify(statementsOf(role))).not.toContain('ecr:BatchDeleteImage');
  });
  it('grants exactly the ECR repositories the run-time check allows (the synthesized IAM patterns against EcrScope)', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      JSON.stringify(p.Properties.Roles).includes('CopyImageServiceRole'),
    );
    const push = policies
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .find((s) => [s.Action].flat().includes('ecr:PutImage'))!;
    // Each resource is Fn::Join ['', ['arn:', {Ref: Partition}, ':ecr:*:', {Ref: AccountId}, ':repository/<pattern>']].
    const patterns = [push.Resource].flat().map((r) => {
      const parts = (r as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
      return /:repository\/(.+)$/.exec(String(parts.at(-1)))![1]!;
    });
    expect(patterns).toEqual(['mirror/*', 'team-*/cache/*']);
    // IAM's matching: `*` any characters (`/` too), the rest literal.
    const iamMatches = (pattern: string, name: string): boolean =>
      new RegExp(
        `^${pattern
          .split('*')
          .map((t) => t.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
          .join('.*')}$`,
      ).test(name);
    const scope = new EcrScope(config.ecrRepositoryPrefixes);
    const names = [
      'mirror/a',
      'mirror/a/b',
      'mirror',
      'mirror-evil/x',
      'mirrorx/a',
      'prod/mirror/a',
      'team-a/cache/x',
      'team-b/cache/x/y',
      'team/cache/x',
      'team-a/cache',
      'team-a/cachex/y',
    ];
    const allowed = names.filter(
      (name) => scope.refusal('123456789012.dkr.ecr.eu-west-1.amazonaws.com', name) === undefined,
    );
    expect(allowed).toEqual(names.filter((name) => patterns.some((p) => iamMatches(p, name))));
    expect(allowed).toEqual(['mirror/a', 'mirror/a/b', 'team-a/cache/x', 'team-b/cache/x/y']);
  });

  it('sends the registry traffic of Plan, Copy and Finish (its catalogs; only) through the configured proxy', () => {
    for (const task of ['plan', 'copyImage', 'finish']) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({
            FERRY_TASK: task,
            HTTPS_PROXY: 'http://proxy.corp.example:3128',
            NO_PROXY: '.corp.example,10.0.0.0/8',
          }),
        },
      });
    }
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment?: { Variables?: Record<string, unknown> } };
    }[];
    const proxied = functions
      .filter((f) => f.Properties.Environment?.Variables?.HTTPS_PROXY !== undefined)
      .map((f) => f.Properties.Environment?.Variables?.FERRY_TASK);
    expect(proxied.sort()).toEqual(['copyImage', 'finish', 'plan']);
  });
});

describe('stack configuration', () => {
  it.each([
    [{ proxy: { httpsProxy: 'http://user:secret@proxy:3128' } }, /no credentials.*at proxy\.httpsProxy/s],
    [{ proxy: { httpsProxy: 'socks5://proxy:1080' } }, /proxy\.httpsProxy/],
    [{ allowPrivateRegistries: ['10.0.0.0/99'] }, /10\.0\.0\.0\/99.*at allowPrivateRegistries/s],
    // `mirror` used to become IAM `mirror*`: mirror-evil/x too.
    [
      { ecrRepositoryPrefixes: ['mirror/', 'mirror'] },
      /must end in "\/" \(every repository under it, e\.g\. "mirror\/"\) or "\*".*at ecrRepositoryPrefixes\[1\]/s,
    ],
    [{ ecrRepositoryPrefixes: ['Mirror/'] }, /must be an ECR repository name prefix.*at ecrRepositoryPrefixes\[0\]/s],
    [
      { registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:*'] },
      /must be a Secrets Manager secret ARN whose name starts with a character other than \*.*at registrySecretArns\[0\]/s,
    ],
    [
      { registrySecretArns: ['arn:aws:secretsmanager:*:123456789012:secret:team/quay-*'] },
      /at registrySecretArns\[0\]/,
    ],
    [
      { registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:1234567890*2:secret:team/quay'] },
      /at registrySecretArns\[0\]/,
    ],
    [
      { registrySecretArns: ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:team/quay\n-*'] },
      /at registrySecretArns\[0\]/,
    ],
  ])('refuses %j at synth, naming the key', (ferry, message) => {
    expect(() => parseFerryConfig(ferry)).toThrow(message);
  });

  it('takes namespace and wildcard prefixes, and secret ARN patterns with * in the name after its first character', () => {
    const parsed = parseFerryConfig({
      ecrRepositoryPrefixes: ['mirror/', 'team-*', '*'],
      registrySecretArns: [
        'arn:aws:secretsmanager:eu-west-1:123456789012:secret:registry/quay-*',
        'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:a*b-AbCdEf',
      ],
    });
    expect(parsed.ecrRepositoryPrefixes).toEqual(['mirror/', 'team-*', '*']);
    expect(parsed.registrySecretArns).toHaveLength(2);
  });
});

describe('cdk-nag is wired into the app', () => {
  it('fails the synth on a finding nobody acknowledged, naming the rule and the resource', () => {
    const { app } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    // A bucket with neither access logs nor an SSL-only policy: AwsSolutions-S1 and -S10.
    new Bucket(new Stack(app, 'Probe'), 'Unacknowledged');
    let failure: unknown;
    try {
      app.synth();
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(Error);
    const report = (failure as Error).message;
    expect(report).toMatch(/AwsSolutions-S10/);
    expect(report).toMatch(/Probe\/Unacknowledged/);
    // Ferry's own resources are all acknowledged: only the probe is reported.
    expect(report).not.toMatch(/Ferry\//);
  }, 120_000);
});

describe('FerryStack with the default configuration', () => {
  let defaults: Template;
  beforeAll(() => {
    const { app, stack } = createApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
    app.synth();
    defaults = Template.fromStack(stack);
  }, 120_000);

  it('grants no ECR access at all until ecrRepositoryPrefixes names some, and tells the functions so', () => {
    const policies = JSON.stringify(defaults.findResources('AWS::IAM::Policy'));
    expect(policies).not.toContain('ecr:');
    for (const task of ['api', 'plan', 'copyImage', 'scheduledRun', 'syncRequest']) {
      defaults.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ FERRY_TASK: task, FERRY_ECR_REPOSITORY_PREFIXES: '' }) },
      });
    }
  });

  it('throttles the API by default (10/s, burst 20) and reserves 5 concurrent executions for its function', () => {
    defaults.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 })]),
    });
    defaults.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ FERRY_TASK: 'api' }) },
      ReservedConcurrentExecutions: 5,
    });
  });
});
