import { z } from 'zod';
import { lambdaLogger, lambdaServices } from '../lambda-root.js';
import { startScheduledRun } from '../../runs/schedule.js';

const input = z.object({ schedule: z.string(), run: z.unknown() });

/** EventBridge Scheduler target: starts the schedule's run unless its previous run is still going. */
export const handler = async (event: unknown) => {
  const { schedule, run } = input.parse(event);
  const result = await startScheduledRun(lambdaServices().service, schedule, run);
  lambdaLogger.info('scheduled run', { schedule, ...result });
  return result;
};
