import type { RunService } from '../../runs/service.js';
import { type ApiResponse, text } from './http.js';

/** GET /v1/runs/{runId}/mapping → `source=destination` per line (oc-mirror's mapping.txt). */
export async function getMapping(runId: string, service: RunService): Promise<ApiResponse> {
  return text(200, await service.mapping(runId));
}
