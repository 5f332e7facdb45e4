import type { Logger } from '../oci/log.js';
import type { RunCancellations } from './cancellation.js';
import type { RunEngines } from './engine.js';
import type { CredentialVault, EventPublisher } from './ports.js';
import type { RunStore } from './store.js';

/** What the run's tasks (preflight, copy an image, record a failure, finish) work with. */
export interface RunTaskDeps {
  readonly store: RunStore;
  readonly engines: RunEngines;
  readonly events: EventPublisher;
  readonly logger?: Logger;
  /** Where the run's inline credentials live: Finish releases (deletes) them. */
  readonly vault?: CredentialVault;
  /** Cancel signals of this process (`ferry serve`): a cancel reaches the copies at once. */
  readonly cancellations?: RunCancellations;
  /** How often a copy asks the run store whether its run was cancelled (default 5 s). */
  readonly cancelPollMs?: number;
}
