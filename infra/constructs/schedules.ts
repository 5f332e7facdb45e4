import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import type { FerryConfig } from '../config.js';

export interface SchedulesProps {
  readonly handler: IFunction;
  readonly schedules: FerryConfig['schedules'];
}

/** EventBridge Scheduler schedules that start runs of stored image sets (overlap-protected by the handler). */
export class Schedules extends Construct {
  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    if (props.schedules.length === 0) return;
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: 'Lets EventBridge Scheduler start Ferry scheduled runs',
    });
    role.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.handler.functionArn] }),
    );
    for (const schedule of props.schedules) {
      new CfnSchedule(this, `Schedule-${schedule.name}`, {
        name: `ferry-${schedule.name}`,
        description: `Ferry: mirror ${schedule.run.images.length} images to ${schedule.run.destination.registry}`,
        scheduleExpression: schedule.expression,
        scheduleExpressionTimezone: schedule.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: props.handler.functionArn,
          roleArn: role.roleArn,
          input: JSON.stringify({ schedule: schedule.name, run: schedule.run }),
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 3600 },
        },
      });
    }
  }
}
