import type { Logger } from '../../oci/log.js';
import type { RunService } from '../../runs/service.js';
import { cancelRun } from './cancel-run.js';
import { getMapping } from './get-mapping.js';
import { getRun } from './get-run.js';
import { type ApiEvent, type ApiResponse, errorResponse, json } from './http.js';
import { listRuns } from './list-runs.js';
import { postRun } from './post-run.js';
import { syncImages } from './sync-images.js';

const runPath = /^\/v1\/runs\/([A-Za-z0-9-]{1,64})(\/cancel|\/mapping)?\/?$/;
const syncPath = /^\/v1\/repos\/([a-z0-9][a-z0-9._/-]*)\/([a-z0-9][a-z0-9._-]*)\/sync_images\/?$/;

/** Dispatches an API request to its route; the same for API Gateway and `ferry serve`. */
export async function route(event: ApiEvent, service: RunService, logger: Logger): Promise<ApiResponse> {
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
      if (action === '/mapping' && method === 'GET') return await getMapping(runId!, service);
      return json(405, { message: `${method} is not allowed on ${path}` });
    }
    const sync = syncPath.exec(path);
    if (sync) {
      if (method === 'POST') return await syncImages(sync[1]!, sync[2]!, event, service);
      return json(405, { message: `${method} is not allowed on ${path}` });
    }
    return json(404, { message: `no route for ${method} ${path}` });
  } catch (err) {
    return errorResponse(err, logger);
  }
}
