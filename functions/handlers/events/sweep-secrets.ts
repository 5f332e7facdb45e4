import { lambdaLogger, lambdaServices } from '../lambda-root.js';
import { sweepRunSecrets } from '../../runs/sweep-secrets.js';

/** Scheduled (hourly): deletes the run secrets of runs that ended without Finish, or are past their age. */
export const handler = async () => {
  const { vault, store, maxAgeHours } = lambdaServices().sweep;
  const released = await sweepRunSecrets({ inventory: vault, vault, store, maxAgeHours });
  lambdaLogger.info('run secrets swept', { runs: released.length, released });
  return { released };
};
