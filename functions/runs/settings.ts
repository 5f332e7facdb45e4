import { z } from 'zod';
import { BadRequestError } from './errors.js';
import type { Settings, SettingsStore } from './image-set-store.js';
import { checkDestination, destinationSchema, type DestinationInput, validateInput } from './run-request.js';

const settingsSchema = z.strictObject({ defaultDestination: destinationSchema.nullable() });

/**
 * A destination that may be stored (the default, an image set's): credentials by secret
 * reference only. Inline credentials are moved into a run-scoped secret when a run starts
 * (service.ts); a stored destination outlives any run, so they would have to sit in DynamoDB.
 * `field` names the destination in the 400.
 */
export function storableDestination(destination: DestinationInput, field: string): DestinationInput {
  checkDestination(destination, field);
  if (destination.credentials !== undefined && !('secretArn' in destination.credentials))
    throw new BadRequestError(
      `${field}.credentials: inline credentials cannot be stored; put them in Secrets Manager and pass {"secretArn": "…"}`,
    );
  return destination;
}

/** `GET/PUT /v1/settings`: the default destination of runs that name none. */
export class SettingsService {
  readonly #store: SettingsStore;

  constructor(store: SettingsStore) {
    this.#store = store;
  }

  getSettings(): Promise<Settings> {
    return this.#store.getSettings();
  }

  /** `input` is the request body as a value; `{"defaultDestination": null}` clears the default. */
  async putSettings(input: unknown): Promise<Settings> {
    const { defaultDestination } = validateInput(input, settingsSchema);
    const settings: Settings = {
      defaultDestination:
        defaultDestination === null ? null : storableDestination(defaultDestination, 'defaultDestination'),
    };
    await this.#store.putSettings(settings);
    return settings;
  }
}
