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
  Pass,
  Result,
  type IChainable,
  type INextable,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { copyInvocationsExceeded, LambdaErrors, maxCopyInvocations } from '../../functions/contract.js';
import { RetryableErrorNames } from '../../functions/oci/errors.js';

export interface RunWorkflowProps {
  readonly plan: IFunction;
  readonly copyImage: IFunction;
  /** CopyImage's Lambda limits, which RecordFailure names when an invocation hit one. */
  readonly copyImageLimits: { readonly timeout: Duration; readonly memoryMB: number };
  readonly recordFailure: IFunction;
  readonly finish: IFunction;
  readonly mapConcurrency: number;
  readonly logRetention: RetentionDays;
}

/**
 * The run workflow, defined once: Plan → Map over images (Distributed for large runs) → Finish.
 * `ferry serve` runs this very definition, extracted from the synthesized template.
 */
export class RunWorkflow extends Construct {
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: RunWorkflowProps) {
    super(scope, id);
    const invoke = (name: string, fn: IFunction, resultPath: string, payload?: TaskInput): LambdaInvoke => {
      const task = new LambdaInvoke(this, name, {
        lambdaFunction: fn,
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: false,
        ...(payload ? { payload } : {}),
      });
      task.addRetry({
        errors: [...LambdaErrors.service],
        interval: Duration.seconds(1),
        backoffRate: 2,
        maxAttempts: 4,
        jitterStrategy: JitterType.FULL,
      });
      // Throttling (the account's concurrency is shared): wait longer, more often, before giving up.
      task.addRetry({
        errors: [...LambdaErrors.throttled],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 8,
        maxDelay: Duration.seconds(60),
        jitterStrategy: JitterType.FULL,
      });
      return task;
    };

    const finish = this.#finish(invoke, props.finish);

    const perImage = (prefix: string): IChainable => {
      const copy = invoke(`${prefix}CopyImage`, props.copyImage, '$.copy');
      // What the Lambda could not retry itself: typed retryable errors raised outside the one retry
      // layer (a token endpoint's reset, a manifest whose bytes did not match). Registry errors that
      // layer — or the blob ladder — already gave up on are marked exhausted, and the task records
      // them as failed instead of throwing them (isRetryable in functions/oci/retry.ts).
      copy.addRetry({
        errors: [...RetryableErrorNames],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 3,
        jitterStrategy: JitterType.FULL,
      });
      // An invocation that hit the Lambda deadline gets one more (it resumes from its checkpoint,
      // if it left one); out of memory or an unknown crash would only repeat itself: recorded at once.
      copy.addRetry({ errors: [...LambdaErrors.timeout], interval: Duration.seconds(1), maxAttempts: 1 });
      const record = invoke(
        `${prefix}RecordFailure`,
        props.recordFailure,
        '$.copy',
        TaskInput.fromObject({
          runId: JsonPath.stringAt('$.runId'),
          index: JsonPath.numberAt('$.index'),
          error: JsonPath.objectAt('$.error'),
          limits: {
            timeoutSeconds: props.copyImageLimits.timeout.toSeconds(),
            memoryMB: props.copyImageLimits.memoryMB,
          },
        }),
      );
      copy.addCatch(record, { errors: ['States.ALL'], resultPath: '$.error' });
      // The guard of the `continue` loop: RecordFailure says the image used up its invocations.
      const exhausted = new Pass(this, `${prefix}InvocationsExhausted`, {
        result: Result.fromObject({
          Error: copyInvocationsExceeded,
          Cause: `copy-image answered "continue" ${maxCopyInvocations} times`,
        }),
        resultPath: '$.error',
      });
      exhausted.next(record);
      const continuing = Condition.stringEquals('$.copy.status', 'continue');
      const check = new Choice(this, `${prefix}NextStep`)
        // A copy that parked a huge layer before its deadline: invoke it again to resume.
        .when(Condition.and(continuing, Condition.numberLessThan('$.copy.invocations', maxCopyInvocations)), copy)
        .when(continuing, exhausted)
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
    // failFast: Plan answers 0 and the first failed child ends the Map Run (no more children
    // start); otherwise 100, and a child that fails (its RecordFailure could not write) ends only itself.
    const distributed = new DistributedMap(this, 'CopyImagesAtScale', {
      itemsPath: '$.plan.indexes',
      itemSelector,
      maxConcurrency: props.mapConcurrency,
      resultPath: JsonPath.DISCARD,
      toleratedFailurePercentagePath: '$.plan.toleratedFailurePercentage',
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

  /**
   * Finish, which always finalises the run: retried, then caught by FinishFailed — the same
   * function with the error, which only marks the run failed naming the cause (releasing its
   * schedule lock: a lock passes on from a run no longer in progress), releases its secrets and
   * ends the execution failed. FinishFailed has no Catch: the chain cannot loop.
   */
  #finish(
    invoke: (name: string, fn: IFunction, resultPath: string, payload?: TaskInput) => LambdaInvoke,
    fn: IFunction,
  ): LambdaInvoke {
    const finish = invoke('Finish', fn, '$.finish');
    finish.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 2 });
    finish.next(new Succeed(this, 'Done'));
    const failed = invoke(
      'FinishFailed',
      fn,
      '$.finish',
      TaskInput.fromObject({ runId: JsonPath.stringAt('$.runId'), finishError: JsonPath.objectAt('$.finishError') }),
    );
    failed.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 3 });
    failed.next(
      new Fail(this, 'RunNotFinished', { error: 'FinishFailed', cause: 'Finish failed: the run was marked failed' }),
    );
    finish.addCatch(failed, { errors: ['States.ALL'], resultPath: '$.finishError' });
    return finish;
  }
}
