import type { RunService } from '../../runs/service.js';
import { type ApiResponse, json } from './http.js';

/** POST /v1/runs/{runId}/cancel → the run, now cancelled; no new copies start. */
export async function cancelRun(runId: string, service: RunService): Promise<ApiResponse> {
  return json(200, await service.cancelRun(runId));
}
