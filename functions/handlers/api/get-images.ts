import type { RunService } from '../../runs/service.js';
import { type ApiEvent, type ApiResponse, json, queryOf } from './http.js';

/** GET /v1/runs/{runId}/images?limit=&nextToken=&status= → a page of the run's images in image order. */
export async function getImages(runId: string, event: ApiEvent, service: RunService): Promise<ApiResponse> {
  return json(200, await service.imagesPage(runId, queryOf(event)));
}
