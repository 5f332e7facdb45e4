/**
 * Names the stack's IAM policies and the Secrets Manager vault share (names only, no SDK).
 * WARNING: the IAM policies grant reads by these names and this tag; renaming one here without
 * redeploying the stack locks Ferry out of its credentials.
 */

/** Prefix of the run-scoped secrets Ferry creates for inline credentials (IAM is scoped to it). */
export const runSecretPrefix = 'ferry/runs/';

/** Tag that opts a secret in for Ferry; its value is the one registry host the secret may be sent to. */
export const registryTag = 'ferry:registry';

/** Tag on run-scoped secrets: the run they belong to. */
export const runTag = 'ferry:run';
