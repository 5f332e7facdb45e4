import { UsageError } from '../../oci/errors.js';
import { formatReference, type ImageReference, manifestRef, parseImageReference } from '../../oci/reference.js';
import type { Repository } from '../../oci/repository.js';
import type { SetImage } from '../image-set/set-image.js';
import { Limiter } from '../limiter.js';
import { type ReleaseArch, releaseTagArch } from './arch.js';
import { ReleaseError } from './errors.js';
import { defaultUpdateGraphUrl, fetchGraph, type JsonGetter, selectReleases, type UpdateGraph } from './graph.js';
import { readReleasePayload, resolveReleaseManifest } from './payload.js';
import type { PlatformSelection } from './platform.js';

/** What expanding `mirror.platform` reads through: source repositories, and the update graph. */
export interface ReleaseSources {
  /** A source repository (read with source credentials): release images and their layers. */
  repository(ref: ImageReference): Repository;
  /** The update graph's GET (only `channels` need it). */
  getJson?: JsonGetter['getJson'];
}

export interface PlatformOptions {
  /** The update graph (`UPDATE_URL_OVERRIDE`, read by the composition root); default {@link defaultUpdateGraphUrl}. */
  readonly updateGraphUrl?: string;
  /** Release payloads read at once (default 4). */
  readonly concurrency?: number;
}

/** The repository release images go to, under `<registry>/<prefix>` (the OpenShift install docs' layout). */
export const releaseImagesRepository = 'openshift/release-images';
/** The repository release components go to, tagged `<version>-<arch>-<component>`. */
export const releaseComponentsRepository = 'openshift/release';

/** The longest tag the distribution spec allows. */
const maxTagLength = 128;

/**
 * The images `mirror.platform` selects, mirrored to `to` (`<registry>[/<prefix>]`): for each
 * release (the `release` image, or each channel's selection from the update graph, per asked
 * architecture) the release image by digest as `openshift/release-images:<version>-<arch>`, then
 * every component of its payload by digest as `openshift/release:<version>-<arch>-<component>`,
 * all `byDigest` (the IDMS maps the payload's repositories to these). `<arch>` is the release
 * tag spelling (`x86_64`). A component shared by two releases appears under both tags.
 * Any failure (graph, manifest, payload) rejects the whole expansion: a partial release is not one.
 */
export async function expandPlatform(
  platform: PlatformSelection,
  sources: ReleaseSources,
  to: string,
  options: PlatformOptions = {},
): Promise<SetImage[]> {
  const releases = await releaseImages(platform, sources, options.updateGraphUrl ?? defaultUpdateGraphUrl);
  const limiter = new Limiter(options.concurrency ?? 4);
  // A single-arch release image named by `release` resolves to itself for every asked arch: read it once.
  const manifests = new Set<string>();
  const expanded = await Promise.all(
    releases.map(({ ref, arch }) =>
      limiter.run(async (): Promise<SetImage[]> => {
        const repository = sources.repository(ref);
        const manifest = await resolveReleaseManifest(repository, manifestRef(ref), arch);
        const key = `${ref.registry}/${ref.repository}@${manifest.digest}`;
        if (manifests.has(key)) return [];
        manifests.add(key);
        const payload = await readReleasePayload(repository, manifest);
        const label = `${payload.version}-${releaseTagArch(arch)}`;
        const image = (source: string, repo: string, tag: string): SetImage => {
          if (tag.length > maxTagLength)
            throw new ReleaseError('RELEASE_PAYLOAD_INVALID', `${source}: destination tag ${tag} is too long`);
          return { source, destination: `${to}/${repo}:${tag}`, byDigest: true };
        };
        return [
          { ...image(key, releaseImagesRepository, label), release: true },
          ...payload.components.map((c) =>
            image(formatReference(parseImageReference(c.image)), releaseComponentsRepository, `${label}-${c.name}`),
          ),
        ];
      }),
    ),
  );
  return expanded.flat();
}

/** The release images to read, each with the architecture it is read for, once each. */
async function releaseImages(
  platform: PlatformSelection,
  sources: ReleaseSources,
  base: string,
): Promise<{ ref: ImageReference; arch: ReleaseArch }[]> {
  const wanted: { ref: ImageReference; arch: ReleaseArch }[] = [];
  if (platform.release !== undefined) {
    const ref = parseImageReference(platform.release);
    for (const arch of platform.architectures) wanted.push({ ref, arch });
  } else {
    const { getJson } = sources;
    if (getJson === undefined)
      throw new UsageError('mirror.platform.channels: the update graph cannot be read here (name a release instead)');
    const graphs = new Map<string, Promise<UpdateGraph>>();
    for (const arch of platform.architectures) {
      for (const channel of platform.channels) {
        const key = `${channel.name} ${arch}`;
        let graph = graphs.get(key);
        if (graph === undefined) graphs.set(key, (graph = fetchGraph({ getJson }, base, channel.name, arch)));
        const nodes = selectReleases(await graph, channel, `channel ${channel.name} (${arch})`);
        for (const node of nodes) wanted.push({ ref: parseImageReference(node.payload), arch });
      }
    }
  }
  const seen = new Set<string>();
  return wanted.filter(({ ref, arch }) => {
    const key = `${formatReference(ref)} ${arch}`;
    return !seen.has(key) && !!seen.add(key);
  });
}
