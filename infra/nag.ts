import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ecrRepositoryPattern } from '../functions/contract.js';

const ack = (scope: IConstruct, id: string, reason: string): void =>
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${id}`, reason });

/**
 * Every cdk-nag AwsSolutions finding Ferry accepts, each with its reason. Anything not listed
 * here fails `cdk synth`.
 */
export function acknowledgeNagFindings(
  stack: Stack,
  ids: {
    table: string;
    functions: Record<string, string>;
    stateMachine: string;
    ecrRepositoryPrefixes: readonly string[];
    registrySecretArns: readonly string[];
    setScheduleGroup: string;
  },
): void {
  ack(
    stack,
    'COG4',
    'The API uses IAM (SigV4) authorization with a resource policy limited to this account, the configured accounts and organization; there are no end users for a Cognito pool.',
  );
  ack(
    stack,
    'APIG3',
    'IAM-authenticated, regional API used by platform automation; a WAF web ACL can be attached by the operator but is not required for signed requests.',
  );
  ack(
    stack,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The basic execution role only lets a function write its own CloudWatch logs.',
  );
  ack(
    stack,
    'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    "API Gateway's account-level role for execution logs; AWS provides no narrower policy.",
  );
  ack(
    stack,
    'IAM5[Resource::*]',
    "ecr:GetAuthorizationToken, secretsmanager:ListSecrets (finding a run's secrets to delete them; it returns no values), X-Ray PutTraceSegments/PutTelemetryRecords and the CloudWatch Logs delivery APIs (state-machine logging) support no resource-level permissions.",
  );
  for (const prefix of ids.ecrRepositoryPrefixes) {
    ack(
      stack,
      `IAM5[Resource::arn:<AWS::Partition>:ecr:*:<AWS::AccountId>:repository/${ecrRepositoryPattern(prefix)}]`,
      `Ferry mirrors into (and creates) ECR repositories under the configured prefix "${prefix}", in any region (cross-region sync).`,
    );
  }
  ack(
    stack,
    `IAM5[Resource::<${ids.table}.Arn>/index/*]`,
    "Read access to the run table's own index (listing runs newest first), granted by grantReadWriteData.",
  );
  for (const fn of Object.values(ids.functions)) {
    ack(
      stack,
      `IAM5[Resource::<${fn}.Arn>:*]`,
      'The state machine may invoke any version or alias of its own task functions (LambdaInvoke grant).',
    );
  }
  ack(
    stack,
    'IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:ferry/runs/*]',
    'Inline credentials are moved into run-scoped secrets whose names start with ferry/runs/ (one per run and registry); only these may be created or deleted, and they are bound to one registry host.',
  );
  ack(
    stack,
    'IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:*]',
    'Reads only secrets of this account and region that carry the tag ferry:registry (IAM condition Null=false on secretsmanager:ResourceTag/ferry:registry): the operator opts a registry credential in by tagging it, and the tag value binds it to one registry host.',
  );
  for (const arn of ids.registrySecretArns.filter((a) => a.includes('*'))) {
    ack(
      stack,
      `IAM5[Resource::${arn}]`,
      'A registry credential the operator listed in registrySecretArns; the wildcard matches the random suffix Secrets Manager appends to secret names.',
    );
  }
  ack(
    stack,
    `IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${ids.setScheduleGroup}/*]`,
    "The API keeps one EventBridge Scheduler schedule per stored image set, named after the set: only schedules in Ferry's own image-set group.",
  );
  const execution = `{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${ids.stateMachine}"}]}]}`;
  ack(
    stack,
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${execution}/*:*]`,
    'The Distributed Map manages the child executions of its own state machine.',
  );
  ack(
    stack,
    `IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${execution}:*]`,
    "Stopping executions (cancel) of Ferry's own state machine only.",
  );
}
