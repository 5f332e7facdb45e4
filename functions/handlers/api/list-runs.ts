import type { RunService } from '../../runs/service.js';
import { BadRequestError } from '../../runs/errors.js';
import { type ApiEvent, type ApiResponse, json } from './http.js';

/** A listing's `limit` query parameter: 1 to 100, 20 when absent. */
export function pageLimit(event: ApiEvent): number {
  const limitText = event.queryStringParameters?.limit ?? '20';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100)
    throw new BadRequestError('limit: must be an integer from 1 to 100');
  return limit;
}

/** GET /v1/runs?limit=&nextToken= → newest first. */
export async function listRuns(event: ApiEvent, service: RunService): Promise<ApiResponse> {
  return json(200, await service.listRuns(pageLimit(event), event.queryStringParameters?.nextToken ?? undefined));
}
