import { Duration } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Map as MapState,
  type IChainable,
  type INextable,
  StateMachine,
  StateMachineType,
  Succeed,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { RetryableErrorNames } from '../../functions/oci/errors.js';

export interface RunWorkflowProps {
  readonly plan: IFunction;
  readonly copyImage: IFunction;
  readonly recordFailure: IFunction;
  readonly finish: IFunction;
  readonly mapConcurrency: number;
  readonly logRetention: RetentionDays;
}

/** Errors of the Lambda service itself, worth retrying. */
const lambdaServiceErrors = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * The run workflow, defined once: Plan → Map over images (Distributed for large runs) → Finish.
 * `ferry serve` runs this very definition, extracted from the synthesized template.
 */
export class RunWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: RunWorkflowProps) {
    super(scope, id);
    const invoke = (name: string, fn: IFunction, resultPath: string): LambdaInvoke => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: false,
      });
      task.addRetry({
        errors: lambdaServiceErrors,
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 4,
        jitterStrategy: JitterType.FULL,
      });
      return task;
    };
    const finish = invoke('Finish', props.finish, '$.finish');
    finish.next(new Succeed(this, 'Done'));

    const perImage = (prefix: string): IChainable => {
      const copy = invoke(`${prefix}CopyImage`, props.copyImage, '$.copy');
      // What the Lambda could not retry itself: a timeout (States.Timeout), and typed retryable
      // errors raised outside the one retry layer (a token endpoint's reset, a manifest whose bytes
      // did not match). Registry errors that layer — or the blob ladder — already gave up on are
      // marked exhausted, and the task records them as failed instead of throwing them (isRetryable
      // in functions/oci/retry.ts), so a failing registry is never retried a second round from here.
      copy.addRetry({
        errors: [...RetryableErrorNames, 'States.Timeout'],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        jitterStrategy: JitterType.FULL,
      });
      const record = invoke(`${prefix}RecordFailure`, props.recordFailure, '$.copy');
      copy.addCatch(record, { errors: ['States.ALL'], resultPath: '$.error' });
      const check = new Choice(this, `${prefix}StopOnFailure`)
        .when(
          Condition.and(Condition.booleanEquals('$.failFast', true), Condition.stringEquals('$.copy.status', 'failed')),
          new Fail(this, `${prefix}ImageFailed`, {
            error: 'ImageFailed',
            cause: 'an image failed and the run is failFast',
          }),
        )
        .otherwise(new Succeed(this, `${prefix}ImageDone`));
      copy.next(check);
      record.next(check);
      return copy;
    };
    const itemSelector = {
      runId: JsonPath.stringAt('$.runId'),
      index: JsonPath.numberAt('$$.Map.Item.Value'),
      failFast: JsonPath.stringAt('$.plan.failFast'),
    };
    const inline = new MapState(this, 'CopyImages', {
      itemsPath: '$.plan.indexes',
      itemSelector,
      maxConcurrency: props.mapConcurrency,
      resultPath: JsonPath.DISCARD,
    });
    inline.itemProcessor(perImage('Inline'));
    const distributed = new DistributedMap(this, 'CopyImagesAtScale', {
      itemsPath: '$.plan.indexes',
      itemSelector,
      maxConcurrency: props.mapConcurrency,
      resultPath: JsonPath.DISCARD,
      toleratedFailurePercentage: 100,
    });
    distributed.itemProcessor(perImage('Distributed'));
    for (const map of [inline, distributed] as (INextable & { addCatch: MapState['addCatch'] })[]) {
      map.addCatch(finish, { errors: ['States.ALL'], resultPath: '$.stopped' });
      map.next(finish);
    }

    const plan = invoke('Plan', props.plan, '$.plan');
    plan.addCatch(finish, { errors: ['States.ALL'], resultPath: '$.planError' });
    plan.next(
      new Choice(this, 'Proceed')
        .when(Condition.booleanEquals('$.plan.proceed', false), finish)
        .when(Condition.booleanEquals('$.plan.distributed', true), distributed)
        .otherwise(inline),
    );

    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(plan),
      stateMachineType: StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', { retention: props.logRetention }),
        level: LogLevel.ALL,
        includeExecutionData: false,
      },
    });
  }
}
