import type { Credential } from '../oci/auth/credentials.js';
import type { CredentialRef } from './model.js';

/** A credential and the one registry host it may be sent to. */
export interface BoundCredential {
  readonly credential: Credential;
  readonly registry: string;
}

/**
 * Keeps credentials out of run state: inline `{username, password}` from an API caller is put
 * in a run-scoped secret (deployed) or process memory (`ferry serve`); only the reference is stored.
 * WARNING: every credential is bound to one registry host; callers of `resolve` must send it to
 * that host only (RunCredentials in engine.ts checks it).
 */
export interface CredentialVault {
  /** Keeps an inline credential for a run, bound to `registry`; `name` tells the run's credentials apart. */
  store(
    runId: string,
    name: string,
    registry: string,
    credential: Extract<Credential, { kind: 'basic' }>,
  ): Promise<CredentialRef>;
  /** The credential and its bound registry; a CredentialError when unreadable, malformed or unbound. */
  resolve(ref: CredentialRef): Promise<BoundCredential>;
  /** Forgets (deletes) the run's own credentials; other secrets are never touched. Idempotent. */
  release(runId: string): Promise<void>;
}

/** Lists the run-scoped secrets that exist, for the sweep of runs that never finished. */
export interface RunSecretInventory {
  listRunSecrets(): Promise<{ runId: string; created: Date }[]>;
}

/** Starts and stops the workflow of a run (Step Functions, or the local interpreter). */
export interface WorkflowStarter {
  start(runId: string): Promise<string>;
  stop(executionId: string): Promise<void>;
}

/** Publishes run lifecycle events (EventBridge `Ferry Run Finished`). */
export interface EventPublisher {
  runFinished(detail: {
    runId: string;
    status: string;
    totalImages: number;
    imagesFailed: number;
    bytesCopied: number;
    schedule?: string;
  }): Promise<void>;
}
