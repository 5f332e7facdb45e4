import { BadRequestError } from '../../runs/errors.js';
import type { ImageSetService } from '../../runs/image-sets.js';
import type { SettingsService } from '../../runs/settings.js';
import { type ApiEvent, type ApiResponse, bodyOf, header, json, maxBodyBytes, parseJsonBody } from './http.js';
import { pageLimit } from './list-runs.js';

/** The use cases of stored image sets and settings (absent: the routes answer 404). */
export interface SetServices {
  readonly imageSets: ImageSetService;
  readonly settings: SettingsService;
}

/** `application/yaml` (and the older `application/x-yaml`): the body is the document itself. */
function isYaml(event: ApiEvent): boolean {
  const type = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  return type === 'application/yaml' || type === 'application/x-yaml';
}

/** PUT /v1/image-sets/{name} → 200 with the stored set and its new version. */
export async function putImageSet(name: string, event: ApiEvent, services: SetServices): Promise<ApiResponse> {
  if (!isYaml(event))
    return json(200, await services.imageSets.putImageSet(name, { kind: 'json', body: parseJsonBody(event) }));
  const text = bodyOf(event);
  if (text === null || text.trim() === '') throw new BadRequestError('request body is required (the YAML document)');
  if (Buffer.byteLength(text) > maxBodyBytes)
    throw new BadRequestError(`request body is larger than ${maxBodyBytes} bytes`);
  return json(200, await services.imageSets.putImageSet(name, { kind: 'yaml', text }));
}

/** GET /v1/image-sets/{name}. */
export async function getImageSet(name: string, services: SetServices): Promise<ApiResponse> {
  return json(200, await services.imageSets.getImageSet(name));
}

/** DELETE /v1/image-sets/{name} → 204. */
export async function deleteImageSet(name: string, services: SetServices): Promise<ApiResponse> {
  await services.imageSets.deleteImageSet(name);
  return { statusCode: 204, headers: {}, body: '' };
}

/** GET /v1/image-sets?limit=&nextToken= → by name. */
export async function listImageSets(event: ApiEvent, services: SetServices): Promise<ApiResponse> {
  return json(
    200,
    await services.imageSets.listImageSets(pageLimit(event), event.queryStringParameters?.nextToken ?? undefined),
  );
}

/** GET /v1/settings → `{"defaultDestination": … | null}`. */
export async function getSettings(services: SetServices): Promise<ApiResponse> {
  return json(200, await services.settings.getSettings());
}

/** PUT /v1/settings with `{"defaultDestination": {…} | null}` → the settings stored. */
export async function putSettings(event: ApiEvent, services: SetServices): Promise<ApiResponse> {
  return json(200, await services.settings.putSettings(parseJsonBody(event)));
}
