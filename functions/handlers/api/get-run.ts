import type { RunService } from '../../runs/service.js';
import { type ApiResponse, json } from './http.js';

/** GET /v1/runs/{runId} → the run with every image's status. */
export async function getRun(runId: string, service: RunService): Promise<ApiResponse> {
  return json(200, await service.getRun(runId));
}
