import type { Logger } from '../oci/log.js';
import type { EventPublisher } from '../runs/ports.js';

/** `ferry serve`'s events: logged, and kept for whoever runs the server in-process. */
export class LocalEvents implements EventPublisher {
  readonly published: Parameters<EventPublisher['runFinished']>[0][] = [];
  readonly #logger: Logger;
  constructor(logger: Logger) {
    this.#logger = logger;
  }
  runFinished(detail: Parameters<EventPublisher['runFinished']>[0]): Promise<void> {
    this.published.push(detail);
    this.#logger.info('Ferry Run Finished', detail);
    return Promise.resolve();
  }
}
