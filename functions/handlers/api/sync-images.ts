import type { RunService } from '../../runs/service.js';
import { type ApiEvent, type ApiResponse, bodyOf, header, json } from './http.js';

/** POST /v1/repos/{namespace}/{repository}/sync_images (Huawei SWR's body) → 202 with the run. */
export async function syncImages(namespace: string, repository: string, event: ApiEvent, service: RunService): Promise<ApiResponse> {
  const { view } = await service.syncImages(namespace, repository, bodyOf(event), header(event, 'idempotency-key'));
  return json(202, view);
}
