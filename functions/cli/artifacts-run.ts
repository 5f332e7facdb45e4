/** The work of `ferry push / pull / attach / discover`, loaded when one of them runs (artifacts.ts has the commands). */
import { resolve } from 'node:path';
import { discoverReferrers, formatReferrerTree } from '../mirror/artifacts/discover.js';
import { packArtifact, parseFileArgument } from '../mirror/artifacts/pack.js';
import { pullArtifact } from '../mirror/artifacts/pull.js';
import { attachArtifact, pushArtifact } from '../mirror/artifacts/push.js';
import { formatBytes } from '../mirror/format.js';
import { UsageError } from '../oci/errors.js';
import { describeManifest } from '../oci/manifest.js';
import { type ImageReference, formatReference, parseImageReference } from '../oci/reference.js';
import type { Repository } from '../oci/repository.js';
import { type OneRegistryFlags, oneRegistryRuntime } from './one-registry.js';
import type { Runtime } from './runtime.js';

/** The flags of the artifact verbs (each takes the ones its command defines). */
export interface ArtifactFlags extends OneRegistryFlags {
  readonly artifactType?: string;
  readonly annotation?: string[];
  readonly config?: string;
  readonly output?: string;
  readonly allowPathTraversal?: boolean;
  readonly json?: boolean;
}

type Verb = 'push' | 'pull' | 'attach' | 'discover';

/** Runs one artifact verb; the exit code. Errors propagate to main (one line; 2 for usage). */
export async function runArtifactCommand(
  verb: Verb,
  input: string,
  files: readonly string[],
  flags: ArtifactFlags,
  debug: boolean,
): Promise<number> {
  const ref = parseImageReference(input);
  const reference = ref.digest ?? ref.tag;
  if (reference === undefined) throw new UsageError(`${input}: name a tag or digest`);
  const writes = verb === 'push' || verb === 'attach';
  // A push creates a missing ECR repository, as a copy does.
  const runtime = await oneRegistryRuntime(flags, ref.registry, writes ? 'destination' : 'source', debug, {
    createRepositories: writes,
  });
  try {
    const repository = runtime.registries.repository(
      { kind: 'registry', ref: { registry: ref.registry, repository: ref.repository } },
      writes ? 'destination' : 'source',
    );
    if (verb === 'pull') return await pull(repository, ref, reference, flags);
    if (verb === 'discover') return await discover(repository, reference, flags);
    return await write(verb, runtime, repository, ref, reference, files, flags);
  } finally {
    await runtime.close();
  }
}

function annotations(values: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new UsageError(`--annotation ${value}: give KEY=VALUE`);
    const key = value.slice(0, eq);
    if (Object.hasOwn(out, key)) throw new UsageError(`--annotation ${key} is given twice`);
    out[key] = value.slice(eq + 1);
  }
  return out;
}

async function write(
  verb: 'push' | 'attach',
  runtime: Runtime,
  repository: Repository,
  ref: ImageReference,
  reference: string,
  files: readonly string[],
  flags: ArtifactFlags,
): Promise<number> {
  const subject = verb === 'attach' ? describeManifest(await repository.getManifest(reference)) : undefined;
  const packed = await packArtifact({
    files: files.map(parseFileArgument),
    ...(flags.artifactType === undefined ? {} : { artifactType: flags.artifactType }),
    annotations: annotations(flags.annotation),
    ...(flags.config === undefined ? {} : { config: parseFileArgument(flags.config) }),
    ...(subject === undefined
      ? {}
      : { subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size } }),
    created: new Date(),
  });
  try {
    await runtime.copier.prepare(repository);
    const result =
      subject === undefined
        ? await pushArtifact(repository, packed, reference)
        : await attachArtifact(repository, packed, subject.digest);
    const at = `${ref.registry}/${ref.repository}@${result.digest}`;
    if (flags.json) process.stdout.write(`${JSON.stringify({ reference: at, ...result })}\n`);
    else
      process.stdout.write(
        `${verb === 'push' ? 'pushed' : 'attached'} ${verb === 'push' ? formatReference(ref) : at} ${result.digest} (${result.blobs} blobs uploaded, ${formatBytes(result.bytes)}${result.indexedBy === 'fallback-tag' ? "; listed in the subject's sha256- tag index" : ''})\n`,
      );
    return 0;
  } finally {
    await packed.cleanup();
  }
}

async function pull(
  repository: Repository,
  ref: ImageReference,
  reference: string,
  flags: ArtifactFlags,
): Promise<number> {
  const dir = resolve(flags.output ?? '.');
  const pulled = await pullArtifact(repository, reference, dir, {
    allowPathTraversal: flags.allowPathTraversal === true,
  });
  for (const file of pulled)
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(file)}\n`
        : `${file.unpacked ? 'unpacked' : 'wrote'}  ${file.path} ${file.digest} (${formatBytes(file.size)})\n`,
    );
  if (pulled.length === 0)
    process.stderr.write(`ferry: ${formatReference(ref)} has no file with a title: nothing written\n`);
  return 0;
}

async function discover(repository: Repository, reference: string, flags: ArtifactFlags): Promise<number> {
  const tree = await discoverReferrers(repository, reference, {
    ...(flags.artifactType === undefined ? {} : { artifactType: flags.artifactType }),
  });
  process.stdout.write(flags.json ? `${JSON.stringify(tree, null, 2)}\n` : formatReferrerTree(tree));
  return 0;
}
