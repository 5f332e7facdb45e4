import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
} from '@aws-sdk/client-scheduler';
import { setScheduleInput, setScheduleRetryPolicy, type SetScheduler } from '../runs/set-scheduler.js';

/** The commands this adapter sends: a narrow port, so tests record them without a network. */
export type SchedulerCommand = CreateScheduleCommand | UpdateScheduleCommand | DeleteScheduleCommand;

/** What the adapter needs of the SDK client (a SchedulerClient fits). */
export interface SchedulerPort {
  send(command: SchedulerCommand): Promise<unknown>;
}

/** Where a set's schedules live and what they start (the stack sets these through contract.ts Env). */
export interface SchedulerSetsConfig {
  /** The schedule group the stack creates for image sets. */
  readonly groupName: string;
  /** The scheduled-run function (handlers/events/scheduled-run.ts). */
  readonly targetArn: string;
  /** The role Scheduler assumes; it may only invoke that function. */
  readonly roleArn: string;
}

/**
 * Image-set schedules on EventBridge Scheduler: one schedule per set, named after the set (a set
 * name has at most 63 characters; Scheduler allows 64), in the stack's group, invoking the
 * scheduled-run function with `{schedule: "set:<name>", run: {imageSet: <name>}}`.
 */
export class SchedulerSets implements SetScheduler {
  readonly #client: SchedulerPort;
  readonly #config: SchedulerSetsConfig;

  constructor(client: SchedulerPort, config: SchedulerSetsConfig) {
    this.#client = client;
    this.#config = config;
  }

  /** Create, or update when it exists (Scheduler has no upsert: Create answers ConflictException). */
  async apply(name: string, expression: string | undefined): Promise<void> {
    if (expression === undefined) return this.remove(name);
    const input = this.#definition(name, expression);
    try {
      await this.#client.send(new CreateScheduleCommand(input));
    } catch (err) {
      if (errorName(err) !== 'ConflictException') throw err;
      await this.#client.send(new UpdateScheduleCommand(input));
    }
  }

  /** Deletes the set's schedule; a set that had none (ResourceNotFoundException) is fine. */
  async remove(name: string): Promise<void> {
    try {
      await this.#client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.#config.groupName }));
    } catch (err) {
      if (errorName(err) !== 'ResourceNotFoundException') throw err;
    }
  }

  #definition(name: string, expression: string): CreateScheduleCommandInput {
    return {
      Name: name,
      GroupName: this.#config.groupName,
      Description: `Ferry: runs of image set ${name}`,
      ScheduleExpression: expression,
      // Ferry evaluates expressions in UTC (ferry serve too): the same fires on both runtimes.
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: this.#config.targetArn,
        RoleArn: this.#config.roleArn,
        Input: JSON.stringify(setScheduleInput(name)),
        RetryPolicy: {
          MaximumRetryAttempts: setScheduleRetryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: setScheduleRetryPolicy.maximumEventAgeInSeconds,
        },
      },
    };
  }
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}
