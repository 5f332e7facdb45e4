import { type MirrorSetKind, mirrorSetKinds, type RunOutputs } from '../../runs/run-outputs.js';
import { type ApiEvent, type ApiResponse, json, pagedText, queryOf } from './http.js';

/** The run outputs beside `/mapping`: the last segment of `/v1/runs/{runId}/…`. */
export const runOutputActions = ['/idms', '/itms', '/cluster-resources', '/errors', '/plan'] as const;
export type RunOutputAction = (typeof runOutputActions)[number];

/** Whether a run path's last segment is one of the {@link runOutputActions}. */
export function isRunOutputAction(action: string | undefined): action is RunOutputAction {
  return (runOutputActions as readonly (string | undefined)[]).includes(action);
}

/**
 * GET /v1/runs/{runId}/idms | /itms → `application/yaml`, the CLI's cluster-resources file; a run
 * with no image mirrored that way is a 404 saying so, as oc-mirror writes no file then (`oc apply
 * -f` of an empty document would apply nothing and succeed, hiding that nothing was mirrored).
 * /errors?limit=&nextToken= → `text/plain`, mirroring_errors.txt's lines (empty when none failed),
 * paged as /mapping is. /plan → the dry-run plan JSON.
 */
export async function getRunOutput(
  runId: string,
  action: RunOutputAction,
  event: ApiEvent,
  outputs: RunOutputs,
): Promise<ApiResponse> {
  if (action === '/errors')
    return pagedText(`/v1/runs/${runId}/errors`, event, await outputs.errors(runId, queryOf(event)));
  if (action === '/plan') return json(200, await outputs.plan(runId));
  if (action === '/cluster-resources') {
    const documents = await outputs.clusterResources(runId);
    if (documents === undefined)
      return json(404, { message: `run ${runId} mirrored no image: it has no cluster resources` });
    return yaml(documents);
  }
  const kind: MirrorSetKind = action === '/idms' ? 'idms' : 'itms';
  const document = await outputs.mirrorSet(runId, kind);
  if (document === undefined) {
    const how = kind === 'idms' ? 'by digest' : 'by tag';
    return json(404, { message: `run ${runId} mirrored no image ${how}: it has no ${mirrorSetKinds[kind]}` });
  }
  return yaml(document);
}

function yaml(body: string): ApiResponse {
  return { statusCode: 200, headers: { 'content-type': 'application/yaml; charset=utf-8' }, body };
}
