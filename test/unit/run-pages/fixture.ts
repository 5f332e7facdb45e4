import type { ApiEvent, ApiResponse } from '../../../functions/handlers/api/http.js';
import { route } from '../../../functions/handlers/api/router.js';
import { MemoryVault } from '../../../functions/local/memory-vault.js';
import { silentLogger } from '../../../functions/oci/log.js';
import type { ImageRecord, ImageStatus, RunRecord } from '../../../functions/runs/model.js';
import { RunOutputs } from '../../../functions/runs/run-outputs.js';
import { RunService } from '../../../functions/runs/service.js';
import { MemoryRunStore } from '../../support/memory-run-store.js';
import { inProgressRun } from '../../support/run-records.js';

// The API over a memory store, with runs of any size put into it as the tasks leave them:
// what the paging and size tests of GET /v1/runs/{id}, /images, /mapping and /errors read.

/** A run's image as a fixture gives it: by index, its status, source and destination, and message. */
export interface ImageSpec {
  status: ImageStatus;
  source: string;
  destination: string;
  message?: string;
}

/** `n` images `src.example/app:<i>` → `dst.example/mirror/app:<i>`, statuses and messages from `spec`. */
export function images(n: number, spec: (i: number) => Partial<ImageSpec> = () => ({})): ImageSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    status: 'completed' as const,
    source: `src.example/app:${i}`,
    destination: `dst.example/mirror/app:${i}`,
    ...spec(i),
  }));
}

export function setup() {
  const store = new MemoryRunStore();
  const service = new RunService({
    store,
    vault: new MemoryVault(),
    workflow: { start: async (runId) => `exec-${runId}`, stop: async () => undefined },
    newId: () => `run-${++ids}`,
  });
  const outputs = new RunOutputs(store);
  let ids = 0;
  /** A GET through the API's router, as API Gateway would pass it. */
  const get = (path: string, query: Record<string, string> = {}): Promise<ApiResponse> => {
    const event: ApiEvent = { httpMethod: 'GET', path, queryStringParameters: query };
    return route(event, service, silentLogger, undefined, outputs);
  };
  /** Puts a run with these images, each final as a copy leaves it. */
  const putRun = async (runId: string, specs: readonly ImageSpec[]): Promise<RunRecord> => {
    const run: RunRecord = { ...inProgressRun({ runId, totalImages: specs.length }), status: 'completed' };
    const records = specs.map((spec, index): ImageRecord => ({ runId, index, ...spec }));
    await store.createRun(run, records);
    return run;
  };
  return { store, service, outputs, get, putRun };
}

/** The bytes a response takes in the Lambda's result (API Gateway proxy result, as JSON). */
export const resultBytes = (response: ApiResponse): number => Buffer.byteLength(JSON.stringify(response));

/** Lambda's limit on a synchronous response. */
export const sixMB = 6 * 1024 * 1024;

/** A parsed JSON body (the routes answer JSON unless they answer text). */
export function body<T>(response: ApiResponse): T {
  return JSON.parse(response.body) as T;
}
