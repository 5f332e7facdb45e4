import { arch as hostArch } from 'node:os';
import type { ImageSet } from '../mirror/image-set/document.js';
import { type ReleaseArch, releaseArchitectures, releaseTagArch } from '../mirror/release/arch.js';
import { describeError, UsageError } from '../oci/errors.js';
import { ociArchitecture } from '../oci/manifest.js';
import { parseImageReference } from '../oci/reference.js';
import { type MirrorConfigFlags, type ResultPrinter, runMirrorConfig } from './mirror-config.js';
import type { Runtime } from './runtime.js';

/** Where OpenShift releases are published (oc adm release mirror's default). */
export const defaultReleaseSource = 'quay.io/openshift-release-dev';
/** The local mirror registry the OpenShift docs set up (WRKLDS-296: "a local registry on port 443"). */
export const defaultReleaseRegistry = 'localhost:443';

/** `ferry mirror --release`'s flags: the mirror flags without --config, every default overridable. */
export interface MirrorReleaseFlags extends Omit<MirrorConfigFlags, 'config' | 'to' | 'failFast'> {
  /** `--release [VERSION]`: a version, or `true` when given alone (then `--channel` names the head). */
  readonly release: string | true;
  readonly channel?: string;
  readonly arch?: string;
  readonly from?: string;
  readonly to?: string;
  readonly continueOnError?: boolean;
}

/** The release architecture of this host (x64 → amd64 …), else amd64, as WRKLDS-296 asks. */
export function hostReleaseArch(nodeArch: string = hostArch()): ReleaseArch {
  const arch = ociArchitecture(nodeArch);
  return releaseArchitectures.find((a) => a === arch && a !== 'multi') ?? 'amd64';
}

/** What `ferry mirror --release` decided from its flags and defaults: the set, the target, the probes. */
export interface ReleasePlan {
  readonly set: ImageSet;
  /** `REGISTRY/NAMESPACE`. */
  readonly to: string;
  /** The release image to read before anything is copied (absent for a channel: the graph names it). */
  readonly release?: string;
}

/**
 * The release payload without switches (issue 10, WRKLDS-296): `--release 4.17.3` alone mirrors
 * `quay.io/openshift-release-dev/ocp-release:4.17.3-<host arch>` to `localhost:443/openshift4.17.3`;
 * `--release --channel stable-4.17` mirrors that channel's head. Every default has its flag.
 */
export function planRelease(
  flags: Pick<MirrorReleaseFlags, 'release' | 'channel' | 'arch' | 'from' | 'to'>,
): ReleasePlan {
  const version = flags.release === true ? undefined : flags.release;
  if (version === undefined && flags.channel === undefined)
    throw new UsageError('--release needs a VERSION (e.g. 4.17.3) or --channel NAME (its head is mirrored)');
  if (version !== undefined && flags.channel !== undefined)
    throw new UsageError('--release takes a VERSION or --channel, not both');
  if (version !== undefined && !/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/.test(version))
    throw new UsageError(`--release ${version}: not a release version such as 4.17.3`);
  if (flags.channel !== undefined && !/^[a-z][a-z0-9.-]{0,62}$/.test(flags.channel))
    throw new UsageError(`--channel ${flags.channel}: not a channel name such as stable-4.17`);
  const arch = flags.arch ?? hostReleaseArch();
  if (!(releaseArchitectures as readonly string[]).includes(arch))
    throw new UsageError(`--arch ${arch}: one of ${releaseArchitectures.join(', ')}`);
  const releaseArch = arch as ReleaseArch;
  const from = (flags.from ?? defaultReleaseSource).replace(/\/+$/, '');
  const release = version === undefined ? undefined : `${from}/ocp-release:${version}-${releaseTagArch(releaseArch)}`;
  if (release !== undefined) {
    try {
      parseImageReference(release);
    } catch (err) {
      throw new UsageError(`--from ${from}: ${describeError(err)}`, { cause: err });
    }
  }
  const to = flags.to ?? `${defaultReleaseRegistry}/openshift${version ?? `-${flags.channel!}`}`;
  return {
    set: {
      additionalImages: [],
      blockedImages: [],
      repositories: [],
      platform: {
        ...(release === undefined ? {} : { release }),
        channels: flags.channel === undefined ? [] : [{ name: flags.channel }],
        architectures: [releaseArch],
      },
    },
    to,
    ...(release === undefined ? {} : { release }),
  };
}

/**
 * `ferry mirror --release [VERSION]`: proves both sides first — the release image readable with
 * the source credentials, an upload allowed with the destination's — so a bad credential fails
 * before anything is copied; then mirrors as `ferry mirror --config` with that set, stopping at
 * the first failure unless `--continue-on-error`.
 */
export async function runMirrorRelease(flags: MirrorReleaseFlags, print: ResultPrinter): Promise<number> {
  const plan = planRelease(flags);
  return runMirrorConfig(
    { ...flags, config: '--release', to: plan.to, failFast: flags.continueOnError !== true },
    print,
    { set: plan.set, probe: (runtime) => probeRelease(runtime, plan, flags.dryRun === true) },
  );
}

/** Reads the release image with the source credentials and, unless a dry run, opens an upload at the destination. */
async function probeRelease(runtime: Runtime, plan: ReleasePlan, dryRun: boolean): Promise<void> {
  if (plan.release !== undefined) {
    const ref = parseImageReference(plan.release);
    const source = runtime.registries.repository({ kind: 'registry', ref }, 'source');
    const head = await source.headManifest(ref.tag ?? ref.digest ?? 'latest').catch((err: unknown) => {
      throw new ProbeFailedError(`source ${ref.registry}/${ref.repository}: ${describeError(err)}`, err);
    });
    if (head === undefined) throw new ProbeFailedError(`source ${plan.release}: no such release image`);
  }
  if (dryRun) return;
  const ref = parseImageReference(`${plan.to}/openshift/release-images:probe`);
  const destination = runtime.registries.repository({ kind: 'registry', ref }, 'destination');
  await destination.checkWriteAccess().catch((err: unknown) => {
    throw new ProbeFailedError(`destination ${ref.registry}/${ref.repository}: ${describeError(err)}`, err);
  });
}

/** A side `ferry mirror --release` checks first refused or cannot be read: nothing was copied (exit code 1). */
class ProbeFailedError extends Error {
  override readonly name = 'ProbeFailedError';
  constructor(message: string, cause?: unknown) {
    super(`${message} (nothing copied)`, cause === undefined ? undefined : { cause });
  }
}
