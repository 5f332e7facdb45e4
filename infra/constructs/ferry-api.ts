import { Stack } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { apiStage } from '../../functions/contract.js';

export interface FerryApiProps {
  readonly handler: IFunction;
  /** Accounts (besides this one) allowed to call the API. */
  readonly trustedAccounts: readonly string[];
  readonly trustedOrganizationId?: string;
  readonly logRetention: RetentionDays;
  /** Stage throttling: steady requests per second and burst, for every method. */
  readonly throttle: { readonly rateLimit: number; readonly burstLimit: number };
}

/**
 * The HTTP API: API Gateway REST with IAM (SigV4) auth on every method, a resource policy that
 * admits this account, the configured accounts and organization, access logs, and the routes of
 * DESIGN.md, all served by one thin router Lambda.
 */
export class FerryApi extends Construct {
  readonly api: RestApi;

  constructor(scope: Construct, id: string, props: FerryApiProps) {
    super(scope, id);
    const account = Stack.of(this).account;
    const principals = [account, ...props.trustedAccounts];
    const invoke = 'execute-api:Invoke';
    const policy = new PolicyDocument({
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          principals: [new AnyPrincipal()],
          actions: [invoke],
          resources: ['execute-api:/*'],
          conditions: { StringEquals: { 'aws:PrincipalAccount': principals } },
        }),
        ...(props.trustedOrganizationId
          ? [
              new PolicyStatement({
                effect: Effect.ALLOW,
                principals: [new AnyPrincipal()],
                actions: [invoke],
                resources: ['execute-api:/*'],
                conditions: { StringEquals: { 'aws:PrincipalOrgID': props.trustedOrganizationId } },
              }),
            ]
          : []),
      ],
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: 'ferry',
      description: 'Ferry: OCI image mirroring runs',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      policy,
      cloudWatchRole: true,
      deployOptions: {
        // The stage is the version: https://…/v1/runs. Resources carry no /v1 of their own (the
        // Lambda gets event.path without the stage and puts it back, see handlers/api/index.ts).
        stageName: apiStage,
        throttlingRateLimit: props.throttle.rateLimit,
        throttlingBurstLimit: props.throttle.burstLimit,
        loggingLevel: MethodLoggingLevel.ERROR,
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(
          new LogGroup(this, 'AccessLogs', { retention: props.logRetention }),
        ),
        accessLogFormat: AccessLogFormat.jsonWithStandardFields(),
      },
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
    });
    const validator = new RequestValidator(this, 'Validator', {
      restApi: this.api,
      validateRequestParameters: true,
      validateRequestBody: true,
    });
    const integration = new LambdaIntegration(props.handler);
    const method = (resource: ReturnType<RestApi['root']['addResource']>, verb: string) =>
      resource.addMethod(verb, integration, { requestValidator: validator });
    const root = this.api.root;
    const runs = root.addResource('runs');
    method(runs, 'POST');
    method(runs, 'GET');
    const run = runs.addResource('{runId}');
    method(run, 'GET');
    method(run.addResource('cancel'), 'POST');
    method(run.addResource('mapping'), 'GET');
    // A run's images a page at a time (issue 11): `GET /v1/runs/{id}` lists them inline up to 1,000.
    method(run.addResource('images'), 'GET');
    // A run's workspace files (issue 9): mirror sets, failures, the dry-run plan.
    for (const output of ['idms', 'itms', 'cluster-resources', 'errors', 'plan'])
      method(run.addResource(output), 'GET');
    const repo = root.addResource('repos').addResource('{namespace}').addResource('{repository}');
    method(repo.addResource('sync_images'), 'POST');
    // Stored image sets and the settings (issue 9): the same router Lambda, IAM auth as every method.
    const imageSets = root.addResource('image-sets');
    method(imageSets, 'GET');
    const imageSet = imageSets.addResource('{name}');
    for (const verb of ['GET', 'PUT', 'DELETE']) method(imageSet, verb);
    const settings = root.addResource('settings');
    method(settings, 'GET');
    method(settings, 'PUT');
  }
}
