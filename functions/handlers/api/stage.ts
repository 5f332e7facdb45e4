import { apiStage } from '../../contract.js';

/**
 * The router's path for an API Gateway event. API Gateway's `event.path` leaves out the stage
 * (`/runs`); a custom domain with the base path `v1` keeps it (`/v1/runs`). Both become `/v1/runs`.
 */
export function routePath(eventPath: string): string {
  const prefix = `/${apiStage}`;
  return eventPath === prefix || eventPath.startsWith(`${prefix}/`) ? eventPath : `${prefix}${eventPath}`;
}
