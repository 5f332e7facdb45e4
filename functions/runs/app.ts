import type { Logger } from '../oci/log.js';
import type { RunCancellations } from './cancellation.js';
import type { EcrScope } from './ecr-scope.js';
import type { RunEngines } from './engine.js';
import type { SettingsStore } from './image-set-store.js';
import type { CredentialVault, EventPublisher, WorkflowStarter } from './ports.js';
import { RunOutputs } from './run-outputs.js';
import { RunService, type RunServiceDeps } from './service.js';
import type { RunStore } from './store.js';
import { RunTasks } from './tasks.js';

/** The ports the run use cases need; each runtime (Lambda, `ferry serve`) plugs in its adapters. */
export interface RunPorts<W extends WorkflowStarter = WorkflowStarter> {
  readonly store: RunStore;
  readonly vault: CredentialVault;
  /**
   * Starts and stops a run's workflow. A workflow that runs the tasks in this process (`ferry
   * serve`) is built from them: pass a function of the tasks.
   */
  readonly workflow: W | ((tasks: RunTasks) => W);
  readonly events: EventPublisher;
  readonly engines: RunEngines;
  readonly logger: Logger;
  /** Copies under way in this process (`ferry serve`): a cancel aborts them at once. */
  readonly cancellations?: RunCancellations;
  /** The ECR repositories runs may use (the deployed service); absent: no limit. */
  readonly ecrScope?: EcrScope;
  /** The registry `sync_images` replicates from, and how a region's registry is named. */
  readonly home?: RunServiceDeps['home'];
  /** The default destination of runs that name none (`PUT /v1/settings`, `saveAsDefault`). */
  readonly settings?: SettingsStore;
  /** Stored image sets, for runs that name one (`"imageSet": "<name>"`). */
  readonly imageSets?: RunServiceDeps['imageSets'];
}

/** The use cases every entry point calls: the API's and the events' (service), the workflow's (tasks). */
export interface RunServices<W extends WorkflowStarter = WorkflowStarter> {
  readonly service: RunService;
  readonly tasks: RunTasks;
  /** A run's workspace files (IDMS, ITMS, errors, the dry-run plan) from its records. */
  readonly outputs: RunOutputs;
  /** The workflow the service starts runs on (the one given, or built from the tasks). */
  readonly workflow: W;
}

/**
 * Builds the run use cases from ports: the one wiring the Lambda composition root and `ferry
 * serve` share, so the two runtimes cannot drift apart.
 */
export function createRunServices<W extends WorkflowStarter>(ports: RunPorts<W>): RunServices<W> {
  const { store, vault, events, engines, logger, cancellations, ecrScope, home, settings, imageSets } = ports;
  const tasks = new RunTasks({
    store,
    engines,
    events,
    logger,
    vault,
    ...(cancellations ? { cancellations } : {}),
  });
  const workflow = typeof ports.workflow === 'function' ? ports.workflow(tasks) : ports.workflow;
  const service = new RunService({
    store,
    vault,
    workflow,
    ...(cancellations ? { cancellations } : {}),
    ...(home ? { home } : {}),
    ...(ecrScope ? { ecrScope } : {}),
    ...(settings ? { settings } : {}),
    ...(imageSets ? { imageSets } : {}),
  });
  return { service, tasks, workflow, outputs: new RunOutputs(store) };
}
