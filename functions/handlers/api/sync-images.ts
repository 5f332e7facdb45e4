import type { RunService } from '../../runs/service.js';
import { type ApiEvent, type ApiResponse, callerOf, header, json, parseJsonBody } from './http.js';

/** POST /v1/repos/{namespace}/{repository}/sync_images (Huawei SWR's body) → 202 with the run. */
export async function syncImages(
  namespace: string,
  repository: string,
  event: ApiEvent,
  service: RunService,
): Promise<ApiResponse> {
  const key = header(event, 'idempotency-key');
  const { view } = await service.syncImages(
    namespace,
    repository,
    parseJsonBody(event),
    key === undefined ? {} : { idempotencyKey: key, caller: callerOf(event) },
  );
  return json(202, view);
}
