/** The work of `ferry inspect / digest / manifest / catalog / tag / delete` (verbs.ts has the commands). */
import { readVerifiedBlob } from '../oci/blob-read.js';
import { type Digest, isDigest } from '../oci/digest.js';
import { UsageError } from '../oci/errors.js';
import {
  type Descriptor,
  formatPlatform,
  type Manifest,
  type Platform,
  ociArchitecture,
  parsePlatform,
  platformMatches,
} from '../oci/manifest.js';
import { formatBytes } from '../mirror/format.js';
import { canonicalRegistry, type ImageReference, parseImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { listCatalogPages } from '../oci/tag-list.js';
import { deleterOnDemand } from './deleter.js';
import { type OneRegistryFlags, oneRegistryRuntime } from './one-registry.js';
import type { Runtime } from './runtime.js';

/** The flags of these verbs (each takes the ones its command defines). */
export interface VerbFlags extends OneRegistryFlags {
  readonly raw?: boolean;
  readonly config?: boolean;
  readonly json?: boolean;
  readonly tags?: boolean;
  readonly platform?: string;
  readonly pageSize?: number;
}

export type Verb = 'inspect' | 'digest' | 'manifest' | 'catalog' | 'tag' | 'delete';
const writes: readonly Verb[] = ['tag', 'delete'];

/** Runs one verb against one registry; the exit code. */
export async function runVerb(verb: Verb, args: readonly string[], flags: VerbFlags, debug: boolean): Promise<number> {
  const registry = verb === 'catalog' ? catalogHost(args[0]!) : parseImageReference(args[0]!).registry;
  const write = writes.includes(verb);
  const runtime = await oneRegistryRuntime(flags, registry, write ? 'destination' : 'source', debug);
  const out = (text: string): boolean => process.stdout.write(text);
  try {
    if (verb === 'catalog') {
      const repositories = await listCatalogPages(
        runtime.registries.client(registry, 'source'),
        flags.pageSize === undefined ? {} : { pageSize: flags.pageSize },
      );
      out(flags.json ? `${JSON.stringify({ registry, repositories })}\n` : repositories.map((r) => `${r}\n`).join(''));
      return 0;
    }
    const ref = parseImageReference(args[0]!);
    const repository = repositoryOf(runtime, ref, write ? 'destination' : 'source');
    const reference = ref.digest ?? ref.tag ?? 'latest';
    switch (verb) {
      case 'digest':
        out(`${(await resolveHead(repository, reference)).digest}\n`);
        return 0;
      case 'manifest':
        out((await repository.getManifest(reference)).bytes.toString('utf8'));
        return 0;
      case 'tag':
        return await tag(repository, ref, reference, args[1]!, out);
      case 'delete':
        return await remove(repository, ref, reference, out);
      default:
        return await inspect(repository, ref, reference, flags, out);
    }
  } finally {
    await runtime.close();
  }
}

/** `REGISTRY` for `ferry catalog`: a host (with port), nothing else. */
function catalogHost(input: string): string {
  const host = input.replace(/^docker:\/\//, '').replace(/\/+$/, '');
  if (host === '' || host.includes('/') || host.includes('@'))
    throw new UsageError(`${input}: give a registry host, e.g. registry.example.com or localhost:5000`);
  // As every other command names Docker Hub (credentials and auth-file keys are `docker.io`).
  return canonicalRegistry(host.toLowerCase());
}

function repositoryOf(runtime: Runtime, ref: ImageReference, role: 'source' | 'destination'): Repository {
  return runtime.registries.repository(
    { kind: 'registry', ref: { registry: ref.registry, repository: ref.repository } },
    role,
  );
}

async function resolveHead(repository: Repository, reference: string): Promise<{ digest: Digest; mediaType: string }> {
  const head = await repository.headManifest(reference);
  if (head !== undefined) return head;
  throw new UsageError(`${repository.display}:${reference}: no such manifest`);
}

async function tag(
  repository: Repository,
  ref: ImageReference,
  reference: string,
  newTag: string,
  out: (text: string) => boolean,
): Promise<number> {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(newTag)) throw new UsageError(`${newTag}: not a tag`);
  const manifest = await repository.getManifest(reference);
  await repository.putManifest(newTag, manifest);
  out(`tagged ${ref.registry}/${ref.repository}:${newTag} → ${manifest.digest}\n`);
  return 0;
}

async function remove(
  repository: Repository,
  ref: ImageReference,
  reference: string,
  out: (text: string) => boolean,
): Promise<number> {
  const digest = isDigest(reference) ? reference : (await resolveHead(repository, reference)).digest;
  await deleterOnDemand().delete(repository, digest);
  out(
    `deleted ${ref.registry}/${ref.repository}@${digest}${isDigest(reference) ? '' : ` (was ${reference})`}: the manifest and every tag on it\n`,
  );
  return 0;
}

/** This machine's platform as registries name it (`x64` → `amd64`). */
function hostPlatform(): Platform {
  return { os: 'linux', architecture: ociArchitecture(process.arch) ?? process.arch };
}

async function readSmallBlob(repository: Repository, descriptor: Descriptor): Promise<Buffer> {
  if (descriptor.size > 4 * 1024 * 1024)
    throw new UsageError(`${repository.display}: config ${descriptor.digest} is over 4 MiB`);
  return readVerifiedBlob(repository, descriptor);
}

interface ImageConfig {
  readonly created?: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly config?: { readonly Labels?: Record<string, string> | null; readonly Env?: string[] | null };
}

/**
 * `ferry inspect`: the manifest (`--raw`), the config (`--config`), or skopeo inspect's summary —
 * for an index, of the image for this machine's platform (or `--platform`), with the index's
 * digest and its platforms. `--json` prints skopeo's fields (`Name`, `Digest`, `RepoTags`, …).
 */
async function inspect(
  repository: Repository,
  ref: ImageReference,
  reference: string,
  flags: VerbFlags,
  out: (text: string) => boolean,
): Promise<number> {
  const top = await repository.getManifest(reference);
  if (flags.raw && !flags.config) {
    out(top.bytes.toString('utf8'));
    return 0;
  }
  const platforms = top.kind === 'index' ? top.index.manifests.flatMap((m) => (m.platform ? [m.platform] : [])) : [];
  const image = await imageFor(repository, top, flags.platform);
  const config = image.image.config;
  const configBytes = await readSmallBlob(repository, config);
  if (flags.config && flags.raw) {
    out(configBytes.toString('utf8'));
    return 0;
  }
  let json: unknown;
  try {
    json = JSON.parse(configBytes.toString('utf8'));
  } catch {
    // an artifact's config need not be JSON: its fields stay empty
  }
  if (flags.config) {
    if (json === undefined)
      throw new UsageError(`${repository.display}: config ${config.digest} is not JSON: use --raw`);
    out(`${JSON.stringify(json, null, 4)}\n`);
    return 0;
  }
  const parsed: ImageConfig = typeof json === 'object' && json !== null ? (json as ImageConfig) : {};
  const tags = flags.tags === false ? [] : await repository.listTags();
  const layers = image.image.layers;
  const summary = {
    Name: `${ref.registry}/${ref.repository}`,
    Digest: top.digest,
    RepoTags: tags,
    Created: parsed.created ?? null,
    DockerVersion: '',
    Labels: parsed.config?.Labels ?? null,
    Architecture: parsed.architecture ?? '',
    ...(parsed.variant ? { Variant: parsed.variant } : {}),
    Os: parsed.os ?? '',
    Layers: layers.map((l) => l.digest),
    LayersData: layers.map((l) => ({
      MIMEType: l.mediaType,
      Digest: l.digest,
      Size: l.size,
      Annotations: l.annotations ?? null,
    })),
    Env: parsed.config?.Env ?? null,
  };
  if (flags.json) {
    out(`${JSON.stringify(summary, null, 4)}\n`);
    return 0;
  }
  const total = layers.reduce((sum, l) => sum + l.size, 0);
  const lines = [
    `Name:         ${summary.Name}`,
    `Digest:       ${top.digest}`,
    `MediaType:    ${top.mediaType}`,
    ...(platforms.length > 0 ? [`Platforms:    ${platforms.map(formatPlatform).join(', ')}`] : []),
    ...(top.kind === 'index' ? [`Image:        ${image.digest} (${image.mediaType})`] : []),
    ...(image.image.artifactType ? [`ArtifactType: ${image.image.artifactType}`] : []),
    `Platform:     ${summary.Os}/${summary.Architecture}${parsed.variant ? `/${parsed.variant}` : ''}`,
    `Created:      ${summary.Created ?? '-'}`,
    `Labels:       ${
      Object.entries(summary.Labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') || '-'
    }`,
    ...(flags.tags === false ? [] : [`Tags:         ${tags.join(', ') || '-'}`]),
    `Layers:       ${layers.length}, ${formatBytes(total)}`,
    ...layers.map((l) => `  ${l.digest}  ${formatBytes(l.size).padStart(10)}  ${l.mediaType}`),
  ];
  out(`${lines.join('\n')}\n`);
  return 0;
}

/** The image manifest to summarise: `top` itself, or the index entry for the platform asked (or this machine's). */
async function imageFor(
  repository: Repository,
  top: Manifest,
  platform: string | undefined,
): Promise<Extract<Manifest, { kind: 'image' }>> {
  if (top.kind === 'image') return top;
  let wanted: Platform;
  try {
    wanted = platform === undefined ? hostPlatform() : parsePlatform(platform);
  } catch (err) {
    throw new UsageError(`--platform: ${(err as Error).message}`);
  }
  const entry =
    top.index.manifests.find((m) => platformMatches(m.platform, wanted)) ??
    (platform === undefined ? top.index.manifests.find((m) => m.platform?.os !== 'unknown') : undefined);
  if (entry === undefined)
    throw new UsageError(`${repository.display}@${top.digest}: no image for ${formatPlatform(wanted)} in the index`);
  const child = await repository.getManifest(entry.digest);
  if (child.kind !== 'image') throw new UsageError(`${repository.display}@${entry.digest}: a nested index`);
  return child;
}
