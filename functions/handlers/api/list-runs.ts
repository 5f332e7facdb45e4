import type { RunService } from '../../runs/service.js';
import { BadRequestError } from '../../runs/errors.js';
import { type ApiEvent, type ApiResponse, json } from './http.js';

/** GET /v1/runs?limit=&nextToken= → newest first. */
export async function listRuns(event: ApiEvent, service: RunService): Promise<ApiResponse> {
  const limitText = event.queryStringParameters?.limit ?? '20';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100)
    throw new BadRequestError('limit: must be an integer from 1 to 100');
  return json(200, await service.listRuns(limit, event.queryStringParameters?.nextToken ?? undefined));
}
