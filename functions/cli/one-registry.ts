import { createCliLogger } from './log.js';
import { createRuntime, type Runtime } from './runtime.js';

/** How the one-registry verbs (push, pull, inspect, tag, …) reach their registry: access flags and `--creds`. */
export interface OneRegistryFlags {
  readonly creds?: string;
  readonly credsFile?: string;
  readonly authfile?: string;
  readonly insecure: string[];
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
}

/**
 * The runtime of a verb that talks to one registry: `--creds` / `--creds-file` (else
 * `FERRY_CREDS`) bound to that registry, as the destination side when the verb writes (and then
 * ECR repositories may be created, for `push`), else as the source side.
 */
export function oneRegistryRuntime(
  flags: OneRegistryFlags,
  registry: string,
  role: 'source' | 'destination',
  debug: boolean,
  options: { readonly createRepositories?: boolean } = {},
): Promise<Runtime> {
  const creds = flags.creds ?? (flags.credsFile === undefined ? process.env.FERRY_CREDS || undefined : undefined);
  const { authfile, insecure, tlsVerify, caFile, registryEndpoint, credsFile } = flags;
  return createRuntime(
    {
      ...(authfile === undefined ? {} : { authfile }),
      insecure,
      tlsVerify,
      ...(caFile === undefined ? {} : { caFile }),
      registryEndpoint,
      createRepositories: options.createRepositories ?? false,
      ...(role === 'destination'
        ? { destCreds: creds, destCredsFile: credsFile }
        : { srcCreds: creds, srcCredsFile: credsFile }),
    },
    createCliLogger(debug),
    role === 'destination' ? { source: [], destination: [registry] } : { source: [registry], destination: [] },
  );
}
