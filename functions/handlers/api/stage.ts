/**
 * The deployed API's stage name, which is also the API version in every path: callers use
 * `https://<api>.execute-api.<region>.amazonaws.com/v1/runs`, and `ferry serve` serves `/v1/runs`.
 */
export const apiStage = 'v1';

/**
 * The router's path for an API Gateway event. API Gateway's `event.path` leaves out the stage
 * (`/runs`); a custom domain with the base path `v1` keeps it (`/v1/runs`). Both become `/v1/runs`.
 */
export function routePath(eventPath: string): string {
  const prefix = `/${apiStage}`;
  return eventPath === prefix || eventPath.startsWith(`${prefix}/`) ? eventPath : `${prefix}${eventPath}`;
}
