import { describe, expect, it } from 'vitest';
import { SchedulerSets, type SchedulerCommand, type SchedulerPort } from '../../../functions/aws/scheduler-sets.js';

const config = {
  groupName: 'ferry-image-sets',
  targetArn: 'arn:aws:lambda:eu-west-1:123456789012:function:ferry-scheduled',
  roleArn: 'arn:aws:iam::123456789012:role/ferry-scheduler',
};

/** The SDK client's `send`, replaced: records each command and answers from a script (no network). */
function recording(answers: Record<string, (() => Error) | undefined> = {}): {
  port: SchedulerPort;
  sent: { command: string; input: unknown }[];
} {
  const sent: { command: string; input: unknown }[] = [];
  return {
    sent,
    port: {
      send: async (command: SchedulerCommand) => {
        const name = command.constructor.name;
        sent.push({ command: name, input: command.input });
        const fail = answers[name];
        if (fail) throw fail();
        return {};
      },
    },
  };
}

const awsError = (name: string) => Object.assign(new Error(name), { name });

const definition = (name: string, expression: string) => ({
  Name: name,
  GroupName: 'ferry-image-sets',
  Description: `Ferry: runs of image set ${name}`,
  ScheduleExpression: expression,
  ScheduleExpressionTimezone: 'UTC',
  State: 'ENABLED',
  FlexibleTimeWindow: { Mode: 'OFF' },
  Target: {
    Arn: config.targetArn,
    RoleArn: config.roleArn,
    Input: '{"schedule":"set:nightly","run":{"imageSet":"nightly"}}',
    RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
  },
});

describe('SchedulerSets (EventBridge Scheduler adapter)', () => {
  it('creates the schedule named after the set, in the group, invoking the scheduled-run function', async () => {
    const { port, sent } = recording();
    await new SchedulerSets(port, config).apply('nightly', 'cron(0 3 * * ? *)');
    expect(sent).toEqual([{ command: 'CreateScheduleCommand', input: definition('nightly', 'cron(0 3 * * ? *)') }]);
  });

  it('updates with the same definition when the schedule exists (ConflictException)', async () => {
    const { port, sent } = recording({ CreateScheduleCommand: () => awsError('ConflictException') });
    await new SchedulerSets(port, config).apply('nightly', 'rate(6 hours)');
    expect(sent).toEqual([
      { command: 'CreateScheduleCommand', input: definition('nightly', 'rate(6 hours)') },
      { command: 'UpdateScheduleCommand', input: definition('nightly', 'rate(6 hours)') },
    ]);
  });

  it('deletes on apply without an expression and on remove; a schedule already gone is fine', async () => {
    const { port, sent } = recording({ DeleteScheduleCommand: () => awsError('ResourceNotFoundException') });
    const sets = new SchedulerSets(port, config);
    await sets.apply('nightly', undefined);
    await sets.remove('nightly');
    const del = { command: 'DeleteScheduleCommand', input: { Name: 'nightly', GroupName: 'ferry-image-sets' } };
    expect(sent).toEqual([del, del]);
  });

  it('passes other errors on (access denied, throttling, a validation error)', async () => {
    for (const [command, name] of [
      ['CreateScheduleCommand', 'ValidationException'],
      ['DeleteScheduleCommand', 'AccessDeniedException'],
    ] as const) {
      const { port, sent } = recording({ [command]: () => awsError(name) });
      const sets = new SchedulerSets(port, config);
      const op = command === 'CreateScheduleCommand' ? sets.apply('nightly', 'rate(1 day)') : sets.remove('nightly');
      expect(
        await op.then(
          () => undefined,
          (e: unknown) => (e as Error).name,
        ),
      ).toBe(name);
      expect(sent).toHaveLength(1);
    }
    const { port } = recording({
      CreateScheduleCommand: () => awsError('ConflictException'),
      UpdateScheduleCommand: () => awsError('ThrottlingException'),
    });
    const err = await new SchedulerSets(port, config).apply('nightly', 'rate(1 day)').catch((e: unknown) => e);
    expect((err as Error).name).toBe('ThrottlingException');
  });
});
