import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { EventPublisher } from '../runs/ports.js';

export const eventSource = 'ferry';
export const runFinishedDetailType = 'Ferry Run Finished';

/** `Ferry Run Finished` events on the stack's bus. */
export class EventBridgePublisher implements EventPublisher {
  readonly #client: EventBridgeClient;
  readonly #busName: string;
  constructor(client: EventBridgeClient, busName: string) {
    this.#client = client;
    this.#busName = busName;
  }
  async runFinished(detail: Parameters<EventPublisher['runFinished']>[0]): Promise<void> {
    await this.#client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.#busName,
            Source: eventSource,
            DetailType: runFinishedDetailType,
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
  }
}
