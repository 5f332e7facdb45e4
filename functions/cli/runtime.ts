import { readFile } from 'node:fs/promises';
import type { EcrAccess } from '../aws/ecr-access.js';
import type { EcrRepositorySettings } from '../aws/ecr-repositories.js';
import {
  AuthFileCredentials,
  ChainedCredentials,
  type CredentialStore,
  defaultAuthFilePaths,
} from '../oci/auth/credentials.js';
import { parseEcrHost } from '../oci/ecr-host.js';
import { UsageError } from '../oci/errors.js';
import type { Logger } from '../oci/log.js';
import { proxySettingsFromEnv } from '../oci/proxy.js';
import type { BlobProgress } from '../mirror/blob-copier.js';
import type { PrepareDestination } from '../mirror/copy-image.js';
import { type CopyEngine, createCopyEngine } from '../mirror/engine.js';
import { MemoryPullBudgetStore } from '../mirror/pull-budget-state.js';
import { PullBudget } from '../mirror/pull-budget.js';
import { defaultMinimumRate } from '../mirror/rate-floor.js';
import { bindCredential, resolveCredentials } from './credential-flags.js';

/** Options every copying command shares (the pinned copy flags). */
export interface CopyFlags {
  readonly srcCreds?: string;
  readonly destCreds?: string;
  /** Files holding `USER:PASS` (else `FERRY_SRC_CREDS` / `FERRY_DEST_CREDS`): passwords out of the process table. */
  readonly srcCredsFile?: string;
  readonly destCredsFile?: string;
  /** `--idle-timeout`: the longest silence on a connection (ms). */
  readonly idleTimeout?: number;
  /** `--min-rate` (bytes/s, 0 off) and `--min-rate-window` (ms): the slowest a blob may move. */
  readonly minRate?: number;
  readonly minRateWindow?: number;
  readonly authfile?: string;
  readonly insecure: string[];
  /** `--tls-verify`: hosts verified even on loopback. */
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
  readonly blobConcurrency?: number;
  /** ECR repositories Ferry creates: tag immutability, scan on push, KMS key; off with --no-create-repositories. */
  readonly createRepositories?: boolean;
  readonly ecrImmutableTags?: boolean;
  readonly ecrScanOnPush?: boolean;
  readonly ecrKmsKey?: string;
  /** skopeo's `--src-tls-verify=false|true` / `--dest-tls-verify`: that side's hosts as `--insecure` / `--tls-verify`. */
  readonly srcTlsVerify?: boolean;
  readonly destTlsVerify?: boolean;
  /** skopeo's `--retry-times N`: N retries of a failed request (N + 1 sends; default 4). */
  readonly retryTimes?: number;
  /**
   * The blob location cache (commander's `--no-cache` turns it off): only commands that copy
   * define the flag, so it is on only where it is `true`.
   */
  readonly cache?: boolean;
}

/** The CLI's copy engine: transport, registries and copier of one process, and its upstreams' pull budgets. */
export interface Runtime extends CopyEngine {
  /** Pull budgets learnt from this process's manifest GETs (a dry run's summary reads them). */
  readonly pulls: PullBudget;
}

/**
 * ECR as the service wires it (aws/ecr-access.ts: credentials from GetAuthorizationToken and
 * repository creation), through the default AWS credential chain, loaded only when an ECR host
 * shows up: the AWS SDK stays out of every other command's start-up.
 */
function ecrOnDemand(settings: EcrRepositorySettings): { credentials: CredentialStore; prepare: PrepareDestination } {
  let access: Promise<EcrAccess> | undefined;
  const load = (): Promise<EcrAccess> =>
    (access ??= import('../aws/ecr-access.js').then((m) => new m.EcrAccessFactory(settings).forRole()));
  return {
    credentials: {
      get: async (registry) => (parseEcrHost(registry) ? (await load()).credentials.get(registry) : undefined),
    },
    prepare: async (destination) => {
      if (destination.registry === undefined || !parseEcrHost(destination.registry)) return;
      await (await load()).prepare(destination);
    },
  };
}

/** The registry hosts each side of a command talks to (none for an `oci:` layout). */
export interface Sides {
  readonly source: readonly string[];
  readonly destination: readonly string[];
}

/**
 * The CLI's composition root: one transport, one set of clients, one copier per process.
 * `--src-creds`/`--dest-creds` (and their files and variables) are bound to `sides`' registry.
 */
export async function createRuntime(
  flags: CopyFlags,
  logger: Logger,
  sides: Sides,
  progress?: BlobProgress,
): Promise<Runtime> {
  const authFile = new AuthFileCredentials(flags.authfile ? [flags.authfile] : defaultAuthFilePaths(), {
    required: flags.authfile !== undefined,
  });
  const ecr = ecrOnDemand({
    tagMutability: flags.ecrImmutableTags ? 'IMMUTABLE' : 'MUTABLE',
    scanOnPush: flags.ecrScanOnPush === true,
    ...(flags.ecrKmsKey ? { kmsKey: flags.ecrKmsKey } : {}),
  });
  const store = (bound: CredentialStore | undefined): CredentialStore =>
    new ChainedCredentials([...(bound === undefined ? [] : [bound]), authFile, ecr.credentials]);
  const sourceCredential = bindCredential(
    await resolveCredentials({
      value: flags.srcCreds,
      file: flags.srcCredsFile,
      flag: '--src-creds',
      envName: 'FERRY_SRC_CREDS',
    }),
    sides.source,
    'source',
  );
  const destinationCredential = bindCredential(
    await resolveCredentials({
      value: flags.destCreds,
      file: flags.destCredsFile,
      flag: '--dest-creds',
      envName: 'FERRY_DEST_CREDS',
    }),
    sides.destination,
    'destination',
  );
  let ca: Buffer | undefined;
  if (flags.caFile !== undefined) {
    try {
      ca = await readFile(flags.caFile);
    } catch (err) {
      throw new UsageError(`cannot read --ca-file ${flags.caFile}`, { cause: err });
    }
  }
  // Looked up for every blob (a local file, read once): small blobs mount too.
  // Loaded only by the commands that copy (`ls`, `inspect`, `login` … never open the cache).
  const cache =
    flags.cache === true
      ? await import('./blob-cache.js').then((m) => new m.FileBlobIndex({ dir: m.blobCacheDir(), logger }))
      : undefined;
  // In memory: one process's copies share it; a wait for the window is one line on stderr.
  const pulls = new PullBudget({
    store: new MemoryPullBudgetStore(),
    logger,
    onWait: (wait) => process.stderr.write(`ferry: ${wait.message}\n`),
  });
  const engine = createCopyEngine({
    pulls,
    transport: {
      insecureHosts: [
        ...flags.insecure,
        ...(flags.srcTlsVerify === false ? sides.source : []),
        ...(flags.destTlsVerify === false ? sides.destination : []),
      ],
      verifyHosts: [
        ...flags.tlsVerify,
        ...(flags.srcTlsVerify === true ? sides.source : []),
        ...(flags.destTlsVerify === true ? sides.destination : []),
      ],
      ...(flags.retryTimes === undefined ? {} : { retry: { attempts: flags.retryTimes + 1 } }),
      endpoints: registryEndpoints(flags.registryEndpoint),
      ...(flags.idleTimeout === undefined ? {} : { idleTimeoutMs: flags.idleTimeout }),
      ...(ca === undefined ? {} : { ca }),
      proxy: proxySettingsFromEnv(process.env),
    },
    logger,
    sourceCredentials: store(sourceCredential),
    destinationCredentials: store(destinationCredential),
    blobs: {
      minRate: {
        bytesPerSecond: flags.minRate ?? defaultMinimumRate.bytesPerSecond,
        windowMs: flags.minRateWindow ?? defaultMinimumRate.windowMs,
      },
      ...(progress ? { progress } : {}),
      ...(flags.blobConcurrency ? { concurrency: flags.blobConcurrency } : {}),
      ...(cache ? { shared: { index: cache, minBytes: 0 } } : {}),
    },
    ...(flags.createRepositories === false ? {} : { prepareDestination: ecr.prepare }),
  });
  if (!cache) return { ...engine, pulls };
  return {
    ...engine,
    pulls,
    // What this process learnt, for the next one: written once, at the end, failed copies included.
    close: async () => {
      await cache.flush();
      await engine.close();
    },
  };
}

/** Registry endpoint overrides: `FERRY_REGISTRY_ENDPOINTS` (pinned), then `--registry-endpoint` flags. */
export function registryEndpoints(flags: readonly string[], env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  return parseEndpoints([...(env.FERRY_REGISTRY_ENDPOINTS?.split(',') ?? []), ...flags]);
}

/** `HOST=URL` pairs (`FERRY_REGISTRY_ENDPOINTS`, `--registry-endpoint`). */
export function parseEndpoints(pairs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of pairs.map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const host = pair.slice(0, eq).trim().toLowerCase();
    const url = pair.slice(eq + 1).trim();
    if (eq <= 0 || !/^https?:\/\/[^/]+/.test(url))
      throw new UsageError(`registry endpoint "${pair}" must be HOST=http(s)://ADDRESS`);
    map.set(host, url);
  }
  return map;
}
