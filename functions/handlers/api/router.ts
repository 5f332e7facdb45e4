import type { Logger } from '../../oci/log.js';
import type { RunOutputs } from '../../runs/run-outputs.js';
import type { RunService } from '../../runs/service.js';
import { cancelRun } from './cancel-run.js';
import { getMapping } from './get-mapping.js';
import { getImages } from './get-images.js';
import { getRun } from './get-run.js';
import { type ApiEvent, type ApiResponse, errorResponse, json, withinResponseLimit } from './http.js';
import {
  deleteImageSet,
  getImageSet,
  getSettings,
  listImageSets,
  putImageSet,
  putSettings,
  type SetServices,
} from './image-sets.js';
import { listRuns } from './list-runs.js';
import { postRun } from './post-run.js';
import { getRunOutput, isRunOutputAction } from './run-outputs.js';
import { syncImages } from './sync-images.js';

const runPath =
  /^\/v1\/runs\/([A-Za-z0-9-]{1,64})(\/cancel|\/mapping|\/images|\/idms|\/itms|\/cluster-resources|\/errors|\/plan)?\/?$/;
// Any one segment: the use case checks the name (a 400 saying the grammar, not a 404).
const setPath = /^\/v1\/image-sets\/([^/]+)\/?$/;
const syncPath = /^\/v1\/repos\/([a-z0-9][a-z0-9._/-]*)\/([a-z0-9][a-z0-9._-]*)\/sync_images\/?$/;

/**
 * Dispatches an API request to its route; the same for API Gateway and `ferry serve`. `sets`:
 * image sets and settings; `outputs`: a run's `/idms`, `/itms`, `/cluster-resources`, `/errors`, `/plan` (absent:
 * those routes are 404s).
 */
export async function route(
  event: ApiEvent,
  service: RunService,
  logger: Logger,
  sets?: SetServices,
  outputs?: RunOutputs,
): Promise<ApiResponse> {
  // Every answer within Lambda's response limit: pages stop before it, single documents are refused beyond it.
  return withinResponseLimit(await dispatch(event, service, logger, sets, outputs), event.path);
}

async function dispatch(
  event: ApiEvent,
  service: RunService,
  logger: Logger,
  sets?: SetServices,
  outputs?: RunOutputs,
): Promise<ApiResponse> {
  try {
    const { httpMethod: method, path } = event;
    if (path === '/v1/runs' || path === '/v1/runs/') {
      if (method === 'POST') return await postRun(event, service);
      if (method === 'GET') return await listRuns(event, service);
      return json(405, { message: `${method} is not allowed on /v1/runs` });
    }
    const run = runPath.exec(path);
    if (run) {
      const [, runId, action] = run;
      if (action === undefined && method === 'GET') return await getRun(runId!, service);
      if (action === '/cancel' && method === 'POST') return await cancelRun(runId!, service);
      if (action === '/mapping' && method === 'GET') return await getMapping(runId!, event, service);
      if (action === '/images' && method === 'GET') return await getImages(runId!, event, service);
      if (isRunOutputAction(action)) {
        if (!outputs) return json(404, { message: `no route for ${method} ${path}` });
        if (method === 'GET') return await getRunOutput(runId!, action, event, outputs);
      }
      return json(405, { message: `${method} is not allowed on ${path}` });
    }
    const sync = syncPath.exec(path);
    if (sync) {
      if (method === 'POST') return await syncImages(sync[1]!, sync[2]!, event, service);
      return json(405, { message: `${method} is not allowed on ${path}` });
    }
    if (sets) {
      const answer = await routeSets(event, sets);
      if (answer) return answer;
    }
    return json(404, { message: `no route for ${method} ${path}` });
  } catch (err) {
    return errorResponse(err, logger);
  }
}

/** The image-set and settings routes; undefined when the path is none of theirs. */
async function routeSets(event: ApiEvent, sets: SetServices): Promise<ApiResponse | undefined> {
  const { httpMethod: method, path } = event;
  if (path === '/v1/image-sets' || path === '/v1/image-sets/') {
    if (method === 'GET') return listImageSets(event, sets);
    return json(405, { message: `${method} is not allowed on /v1/image-sets` });
  }
  if (path === '/v1/settings' || path === '/v1/settings/') {
    if (method === 'GET') return getSettings(sets);
    if (method === 'PUT') return putSettings(event, sets);
    return json(405, { message: `${method} is not allowed on /v1/settings` });
  }
  const set = setPath.exec(path);
  if (!set) return undefined;
  const name = set[1]!;
  if (method === 'PUT') return putImageSet(name, event, sets);
  if (method === 'GET') return getImageSet(name, sets);
  if (method === 'DELETE') return deleteImageSet(name, sets);
  return json(405, { message: `${method} is not allowed on /v1/image-sets/{name}` });
}
