import type { CredentialVault, RunSecretInventory } from './ports.js';
import type { RunStore } from './store.js';

export interface SweepDeps {
  readonly inventory: RunSecretInventory;
  readonly vault: Pick<CredentialVault, 'release'>;
  readonly store: Pick<RunStore, 'getRun'>;
  /** A run's secrets older than this go even while the run still says in-progress (a workflow that died). */
  readonly maxAgeHours: number;
  readonly now?: Date;
  /**
   * Secrets younger than this are left alone even when their run is unknown: the API creates a
   * run's secrets just before the run's item.
   */
  readonly graceMinutes?: number;
}

/**
 * Deletes the run-scoped secrets that Finish did not (a cancelled or stopped workflow, a crash, an
 * idempotent retry whose new secrets lost to the first run): those of runs that ended or do not
 * exist, and any older than `maxAgeHours`. Returns the runs released.
 */
export async function sweepRunSecrets(deps: SweepDeps): Promise<string[]> {
  const now = (deps.now ?? new Date()).getTime();
  const grace = (deps.graceMinutes ?? 15) * 60_000;
  const oldest = new Map<string, number>();
  for (const { runId, created } of await deps.inventory.listRunSecrets()) {
    oldest.set(runId, Math.min(oldest.get(runId) ?? Infinity, created.getTime()));
  }
  const released: string[] = [];
  for (const [runId, created] of oldest) {
    const age = now - created;
    if (age < grace) continue;
    const expired = age > deps.maxAgeHours * 3_600_000;
    if (!expired) {
      const run = await deps.store.getRun(runId);
      if (run?.status === 'in-progress') continue;
    }
    await deps.vault.release(runId);
    released.push(runId);
  }
  return released;
}
