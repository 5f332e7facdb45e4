import type { EventBridgeEvent } from 'aws-lambda';
import { lambdaLogger, lambdaServices } from '../lambda-root.js';

/**
 * Cross-account sync requests put on the Ferry bus (detail = a POST /v1/runs body). The event id
 * is the idempotency key, so a redelivered event starts no second run.
 */
export const handler = async (event: EventBridgeEvent<string, unknown>) => {
  const { view, created } = await lambdaServices().service.startRun(event.detail, {
    idempotencyKey: `event-${event.id}`,
    caller: `events:${event.account}`,
  });
  lambdaLogger.info('sync request', { account: event.account, runId: view.runId, created });
  return { runId: view.runId, created };
};
