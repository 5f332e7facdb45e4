import type { RunService } from '../../runs/service.js';
import { type ApiEvent, type ApiResponse, pagedText, queryOf } from './http.js';

/**
 * GET /v1/runs/{runId}/mapping?limit=&nextToken= → `source=destination` per line (oc-mirror's
 * mapping.txt); a run too large for one response is paged (`Link: <…>; rel="next"`).
 */
export async function getMapping(runId: string, event: ApiEvent, service: RunService): Promise<ApiResponse> {
  return pagedText(`/v1/runs/${runId}/mapping`, event, await service.mapping(runId, queryOf(event)));
}
