import type { Credential } from '../oci/auth/credentials.js';
import type { CredentialRef } from './model.js';

/**
 * Keeps credentials out of run state: inline `{username, password}` from an API caller is put
 * in a run-scoped secret (deployed) or process memory (`ferry serve`); only the reference is stored.
 */
export interface CredentialVault {
  store(runId: string, name: string, credential: Extract<Credential, { kind: 'basic' }>): Promise<CredentialRef>;
  resolve(ref: CredentialRef): Promise<Credential>;
}

/** Starts and stops the workflow of a run (Step Functions, or the local interpreter). */
export interface WorkflowStarter {
  start(runId: string): Promise<string>;
  stop(executionId: string): Promise<void>;
}

/** Publishes run lifecycle events (EventBridge `Ferry Run Finished`). */
export interface EventPublisher {
  runFinished(detail: { runId: string; status: string; totalImages: number; imagesFailed: number; bytesCopied: number; schedule?: string }): Promise<void>;
}
