import type { RunService } from '../../runs/service.js';
import { type ApiEvent, type ApiResponse, callerOf, header, json, parseJsonBody } from './http.js';

/** POST /v1/runs → 202 with the new run (or the earlier one for a repeated Idempotency-Key of the same caller and body). */
export async function postRun(event: ApiEvent, service: RunService): Promise<ApiResponse> {
  const key = header(event, 'idempotency-key');
  const { view, created } = await service.startRun(
    parseJsonBody(event),
    key === undefined ? {} : { idempotencyKey: key, caller: callerOf(event) },
  );
  return { ...json(202, view), headers: { 'content-type': 'application/json', 'x-ferry-replayed': String(!created) } };
}
