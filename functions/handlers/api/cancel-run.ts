import type { RunService } from '../../runs/service.js';
import { type ApiResponse, json } from './http.js';

/** POST /v1/runs/{runId}/cancel → the run, now cancelled: no copy starts, copies under way stop, no tag is pushed after it. */
export async function cancelRun(runId: string, service: RunService): Promise<ApiResponse> {
  return json(200, await service.cancelRun(runId));
}
