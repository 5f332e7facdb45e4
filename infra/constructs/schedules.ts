import { Names, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction, IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule, CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { Env } from '../../functions/contract.js';
import type { FerryConfig } from '../config.js';

export interface SchedulesProps {
  /** The scheduled-run function every schedule invokes (overlap-protected there). */
  readonly handler: IFunction;
  readonly schedules: FerryConfig['schedules'];
}

/**
 * Scheduler's retry policy for every Ferry schedule (the config's here; image sets' through
 * functions/runs/set-scheduler.ts, which a stack test keeps equal).
 */
export const scheduleRetryPolicy = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 } as const;

/**
 * EventBridge Scheduler: the config's schedules, and the group where the API keeps a schedule per
 * stored image set. Both invoke the scheduled-run function through one role that may do nothing else.
 */
export class Schedules extends Construct {
  /** The role EventBridge Scheduler assumes: it may only invoke the scheduled-run function. */
  readonly role: Role;
  /** The schedule group of image sets' schedules. */
  readonly setGroupName: string;
  readonly #handler: IFunction;

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    this.#handler = props.handler;
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler start Ferry scheduled runs',
    });
    this.role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.handler.functionArn] }),
    );
    // Named at synth time (64 characters at most): the IAM grants below name its schedules' ARNs.
    const group = new CfnScheduleGroup(this, 'ImageSets');
    this.setGroupName = Names.uniqueResourceName(group, { maxLength: 64 });
    group.name = this.setGroupName;
    for (const schedule of props.schedules) {
      new CfnSchedule(this, `Schedule-${schedule.name}`, {
        name: `ferry-${schedule.name}`,
        description: `Ferry: mirror ${schedule.run.images.length} images to ${schedule.run.destination.registry}`,
        scheduleExpression: schedule.expression,
        scheduleExpressionTimezone: schedule.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: props.handler.functionArn,
          roleArn: this.role.roleArn,
          input: JSON.stringify({ schedule: schedule.name, run: schedule.run }),
          retryPolicy: { ...scheduleRetryPolicy },
        },
      });
    }
  }

  /** The ARN pattern of image sets' schedules: every schedule in the group, and nothing else. */
  get setScheduleArns(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.setGroupName}/*`,
    });
  }

  /**
   * Lets `fn` (the API) create, update and delete image sets' schedules in the group, and hand
   * Scheduler the role (only to Scheduler), and tells it where (contract.ts Env).
   */
  grantSetSchedules(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'scheduler:CreateSchedule',
          'scheduler:UpdateSchedule',
          'scheduler:DeleteSchedule',
          'scheduler:GetSchedule',
        ],
        resources: [this.setScheduleArns],
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    fn.addEnvironment(Env.setScheduleGroup, this.setGroupName);
    fn.addEnvironment(Env.setScheduleTargetArn, this.#handler.functionArn);
    fn.addEnvironment(Env.setScheduleRoleArn, this.role.roleArn);
  }
}
