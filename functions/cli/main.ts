import { readFile } from 'node:fs/promises';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type CopyResult } from '../mirror/copy-image.js';
import { type MirrorResult, mirrorImages, mirrorPairs } from '../mirror/mirror.js';
import { catalogErrorName } from '../mirror/operators/errors.js';
import { describeError, ErrorNames, UsageError } from '../oci/errors.js';
import { formatBytes } from '../mirror/format.js';
import { type Platform, parsePlatform } from '../oci/manifest.js';
import { formatLocation, type Location, parseLocation } from '../oci/reference.js';
import { createCliLogger } from './log.js';
import { addListCommand } from './list-operators.js';
import { addArtifactCommands } from './artifacts.js';
import { addVerbCommands } from './verbs.js';
import { addLsCommand } from './ls.js';
import { addPruneCommand } from './prune.js';
import { addRegistryAccessOptions, collect, positiveInt } from './options.js';
import { parseRate, parseSeconds } from './units.js';
import { type CopyFlags, createRuntime } from './runtime.js';

/**
 * The package version, put in by the bundler (`npm run build` defines FERRY_VERSION from
 * package.json): nothing is read at start-up, and an installed copy needs no path to package.json.
 */
declare const FERRY_VERSION: string | undefined;
const version = typeof FERRY_VERSION === 'string' ? FERRY_VERSION : '0.0.0-dev';

interface GlobalFlags {
  debug?: boolean;
}

interface CopyCommandFlags extends CopyFlags {
  platform: string[];
  referrers?: boolean;
  includeForeignLayers?: boolean;
  json?: boolean;
  /** `-q, --quiet`: no result lines, no progress, no summary; errors and warnings still on stderr. */
  quiet?: boolean;
}

interface MirrorCommandFlags extends CopyCommandFlags {
  to?: string;
  imagesFile?: string;
  concurrency: number;
  failFast?: boolean;
  /** `--config FILE`: mirror an image set (issue 9), with `--workspace` and `--dry-run`. */
  config?: string;
  workspace?: string;
  dryRun?: boolean;
  /** `--release [VERSION]`: an OpenShift release payload without an image-set file (WRKLDS-296). */
  release?: string | true;
  channel?: string;
  arch?: string;
  from?: string;
  continueOnError?: boolean;
  /** `--archive-size SIZE`: with `--to file://DIR`, the largest part (issue 12). */
  archiveSize?: string;
}

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
};

/** `true` / `false` for skopeo's `--src-tls-verify=false`. */
function parseBool(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new InvalidArgumentError('must be true or false');
}

function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 100) throw new InvalidArgumentError('must be an integer from 0 to 100');
  return n;
}

function addCopyOptions(command: Command): Command {
  return (
    addRegistryAccessOptions(command)
      .option(
        '--platform <os/arch[/variant]>',
        'copy only this platform (repeatable; several build a new index)',
        collect,
        [],
      )
      .option('--referrers', 'also copy referrers and cosign .sig/.att/.sbom tags')
      .option(
        '--src-creds <user:pass>',
        'credentials for the source registry (visible in ps: prefer the file or FERRY_SRC_CREDS)',
      )
      .option(
        '--dest-creds <user:pass>',
        'credentials for the destination registry (visible in ps: prefer the file or FERRY_DEST_CREDS)',
      )
      .option('--src-creds-file <path>', 'file holding USER:PASS for the source registry')
      .option('--dest-creds-file <path>', 'file holding USER:PASS for the destination registry')
      .addOption(new Option('--blob-concurrency <n>', 'blob transfers at once').argParser(positiveInt))
      .addOption(
        new Option('--idle-timeout <seconds>', 'fail a request after this long without data (default 60)').argParser(
          parseSeconds,
        ),
      )
      .addOption(
        new Option(
          '--min-rate <rate>',
          'fail a blob moving slower than this, e.g. 1MiB/s (default 10KiB/s; 0: off)',
        ).argParser(parseRate),
      )
      .addOption(
        new Option('--min-rate-window <seconds>', 'the window --min-rate is averaged over (default 60)').argParser(
          parseSeconds,
        ),
      )
      .option('--include-foreign-layers', 'also copy non-distributable layers')
      .option('--no-create-repositories', 'do not create missing ECR repositories')
      .option('--ecr-immutable-tags', 'create ECR repositories with immutable tags')
      .option('--ecr-scan-on-push', 'create ECR repositories with scan on push')
      .option('--ecr-kms-key <arn>', 'create ECR repositories encrypted with this KMS key')
      .option('--no-cache', 'neither read nor write the blob location cache (~/.cache/ferry: mounts across runs)')
      .option('--json', 'print JSON results on stdout')
      .option('-q, --quiet', 'print no results, progress or summary (errors and warnings still go to stderr)')
      // skopeo's spellings, where Ferry has the same thing.
      .addOption(
        new Option('--src-tls-verify [bool]', "skopeo's spelling: false = --insecure for the source registry")
          .argParser(parseBool)
          .preset(true),
      )
      .addOption(
        new Option('--dest-tls-verify [bool]', "skopeo's spelling: false = --insecure for the destination registry")
          .argParser(parseBool)
          .preset(true),
      )
      .option('--all', "skopeo's spelling: every platform, which is Ferry's default")
      .addOption(
        new Option('--retry-times <n>', 'retries of a failed request (skopeo spelling; default 4)').argParser(
          nonNegativeInt,
        ),
      )
  );
}

/** `ferry serve`'s flags, handed to the local runtime. */
export interface ServeFlags {
  host: string;
  port: number;
  dataDir?: string;
  /** Bearer token every request must carry (--token or FERRY_SERVE_TOKEN). */
  token?: string;
  insecure: string[];
  tlsVerify: string[];
  registryEndpoint: string[];
  homeRegistry?: string;
  regionRegistry: string[];
  /** `--task-deadline`: seconds each copy-task invocation has (Lambda's 900 by default). */
  taskDeadline?: number;
}

/** What the entry point plugs in: the local runtime is loaded only for `serve`. */
export interface MainHooks {
  serve?: (flags: ServeFlags) => Promise<number>;
}

/** Runs the `ferry` command line; returns the exit code (0 ok, 1 copy failed, 2 usage). */
export async function main(argv: readonly string[], hooks: MainHooks = {}): Promise<number> {
  const program = new Command('ferry')
    .description('Copy container images and OCI artifacts between registries, verified and fast.')
    .version(version, '-V, --version', 'print the version')
    .option('--debug', 'log every decision to stderr as JSON and show stack traces')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  let exitCode = 0;

  addCopyOptions(program.command('copy').argument('<source>').argument('<destination>'))
    .description('copy one image or artifact (all platforms by default, digest preserved)')
    .action(async (source: string, destination: string, flags: CopyCommandFlags) => {
      exitCode = await runCopy(source, destination, flags, program.opts<GlobalFlags>());
    });

  addCopyOptions(program.command('mirror').argument('[images...]'))
    .description('mirror many images to REGISTRY[/PREFIX], moving shared blobs once')
    .option(
      '--to <registry[/prefix]>',
      'destination registry and optional prefix (required but with --release); with --config, file://DIR writes an archive',
    )
    .option('--images-file <file>', 'file with one image reference per line (# comments)')
    .addOption(new Option('--concurrency <n>', 'images copied at once').argParser(positiveInt).default(4))
    .option('--fail-fast', 'stop starting new images after the first failure')
    .option('--config <file>', 'mirror the image set of this ImageSetConfiguration (YAML or JSON)')
    .option('--workspace <dir>', 'with --config: where mapping.txt, cluster-resources/… go (default ./ferry-workspace)')
    .option(
      '--dry-run',
      'copy nothing: plan every image (with --config: write dry-run/mapping.txt and dry-run/plan.json)',
    )
    .option('--release [version]', 'an OpenShift release payload (default --to localhost:443/openshift<VERSION>)')
    .option('--channel <name>', 'with --release and no VERSION: the head of this update channel')
    .option('--arch <arch>', "with --release: amd64, arm64, ppc64le, s390x or multi (default: this host's)")
    .option(
      '--from <registry/namespace>',
      'with --release: where releases are published (default quay.io/openshift-release-dev); file://DIR: push that archive to --to',
    )
    .option('--archive-size <size>', 'with --to file://DIR: the largest archive part, e.g. 500MiB, 2GiB (default 4GiB)')
    .option('--continue-on-error', 'with --release: go on after a failed image (default: stop at the first)')
    .addHelpText(
      'after',
      `
Air gap (docs/archives.md):
  $ ferry mirror --config set.yaml --to file://./archive --archive-size 2GiB
  $ ferry mirror --from file://./archive --to registry.internal:5000/mirror`,
    )
    .action(async (images: string[], flags: MirrorCommandFlags) => {
      exitCode = await runMirrorCommand(images, flags, program.opts<GlobalFlags>());
    });

  addLsCommand(program, (code) => (exitCode = code));
  addPruneCommand(program, (code) => (exitCode = code));
  addListCommand(program, (code) => (exitCode = code));
  addArtifactCommands(program, (code) => (exitCode = code));
  addVerbCommands(program, (code) => (exitCode = code));

  program
    .command('serve')
    .description('the Ferry HTTP API on localhost, on embedded defaults')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .addOption(new Option('--port <port>', 'port to listen on (0: any free port)').argParser(port).default(8080))
    .option(
      '--data-dir <dir>',
      'where run state is kept (in memory when absent); runs left in progress are resumed on restart',
    )
    .addOption(
      new Option(
        '--token <token>',
        'require Authorization: Bearer TOKEN on every request (needed when --host is not loopback)',
      ).env('FERRY_SERVE_TOKEN'),
    )
    .option('--insecure <host[:port]>', 'allow plain HTTP / unverified TLS for this registry (repeatable)', collect, [])
    .option(
      '--tls-verify <host[:port]>',
      'use https only and verify certificates for this registry, even on loopback (repeatable)',
      collect,
      [],
    )
    .option('--registry-endpoint <host=url>', 'reach a registry host at another base URL (repeatable)', collect, [])
    .option('--home-registry <host>', 'the registry sync_images replicates from')
    .option('--region-registry <region=host>', 'the registry of a region, for sync_images (repeatable)', collect, [])
    .addOption(
      new Option(
        '--task-deadline <seconds>',
        "how long each copy-task invocation has, as Lambda's 15 minutes (default 900): a copy that cannot finish parks and goes on in the next",
      ).argParser(positiveInt),
    )
    .action(async (flags: ServeFlags) => {
      if (!hooks.serve) throw new UsageError('serve is not available in this build');
      exitCode = await hooks.serve(flags);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help'
        ? 0
        : 2;
    }
    const debug = program.opts<GlobalFlags>().debug === true;
    process.stderr.write(`ferry: ${describeError(err)}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return isUsage(err) ? 2 : 1;
  }
}

/**
 * By name, not class: `serve` runs from the unbundled modules (bin/ferry.js loads them apart
 * from the CLI bundle), whose error classes are other objects than the bundle's.
 */
function isUsage(err: unknown): boolean {
  const usage: readonly string[] = [ErrorNames.usage, ErrorNames.invalidReference, catalogErrorName];
  return err instanceof Error && usage.includes(err.name);
}

function parsePlatforms(values: readonly string[]): Platform[] {
  try {
    return values.map(parsePlatform);
  } catch (err) {
    throw new UsageError(`--platform: ${describeError(err)}`);
  }
}

async function runCopy(
  source: string,
  destination: string,
  flags: CopyCommandFlags,
  global: GlobalFlags,
): Promise<number> {
  const src = parseLocation(source);
  const dst = parseLocation(destination);
  const platforms = parsePlatforms(flags.platform);
  const logger = createCliLogger(global.debug === true);
  // Progress bars only on a TTY; loaded lazily so scripted runs do not pay for them.
  const bars =
    !flags.json && !flags.quiet && process.stderr.isTTY
      ? (await import('./progress.js')).createProgress(process.stderr)
      : undefined;
  const runtime = await createRuntime(
    flags,
    logger,
    { source: registriesOf([src]), destination: registriesOf([dst]) },
    bars?.progress,
  );
  try {
    const result = await runtime.copier.copy(
      runtime.registries.image(src, 'source'),
      runtime.registries.image(copyDestination(dst, src), 'destination'),
      { platforms, referrers: flags.referrers === true, includeForeignLayers: flags.includeForeignLayers === true },
    );
    bars?.stop();
    if (!flags.quiet)
      process.stdout.write(flags.json ? `${JSON.stringify(jsonResult(result))}\n` : `${describeResult(result)}\n`);
    if (result.digestChanged && !flags.json) {
      process.stderr.write(
        `ferry: note: --platform built a new index; its digest ${result.digest} differs from the source's\n`,
      );
    }
    return 0;
  } catch (err) {
    bars?.stop();
    throw new CopyFailedError(
      `copy ${formatLocation(src)} → ${formatLocation(dst)} failed: ${describeError(err)}`,
      err,
    );
  } finally {
    await runtime.close();
  }
}

/** `ferry mirror`: an image set with `--config`, else the images named. */
async function runMirrorCommand(images: string[], flags: MirrorCommandFlags, global: GlobalFlags): Promise<number> {
  const print = (result: MirrorResult): string =>
    flags.json ? JSON.stringify(jsonResult(result)) : describeResult(result);
  if (flags.release !== undefined) {
    if (images.length > 0 || flags.imagesFile !== undefined || flags.config !== undefined)
      throw new UsageError('--release takes no IMAGE arguments, --images-file or --config');
    const { runMirrorRelease } = await import('./mirror-release.js');
    const { to, ...rest } = flags;
    return runMirrorRelease(
      {
        ...rest,
        release: flags.release,
        ...(to === undefined ? {} : { to }),
        platforms: parsePlatforms(flags.platform),
        debug: global.debug === true,
      },
      print,
    );
  }
  if (flags.from?.startsWith('file://') || flags.to?.startsWith('file://'))
    return runArchiveCommand(images, flags, global);
  if (flags.archiveSize !== undefined) throw new UsageError('--archive-size needs --to file://DIR');
  for (const flag of ['channel', 'arch', 'from', 'continueOnError'] as const)
    if (flags[flag] !== undefined)
      throw new UsageError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --release`);
  if (flags.to === undefined) throw new UsageError("required option '--to <registry[/prefix]>' not specified");
  const to = flags.to;
  if (flags.config === undefined) {
    if (flags.workspace !== undefined) throw new UsageError('--workspace needs --config');
    return runMirror(images, { ...flags, to }, global);
  }
  if (images.length > 0 || flags.imagesFile !== undefined)
    throw new UsageError('--config takes no IMAGE arguments or --images-file');
  // Loaded on use: the image-set parser (yaml, semver) stays out of every other command's start-up.
  const { runMirrorConfig } = await import('./mirror-config.js');
  return runMirrorConfig(
    { ...flags, to, config: flags.config, platforms: parsePlatforms(flags.platform), debug: global.debug === true },
    print,
  );
}

/** `ferry mirror --config FILE --to file://DIR` (mirror to disk) and `--from file://DIR --to REGISTRY` (disk to mirror). */
async function runArchiveCommand(images: string[], flags: MirrorCommandFlags, global: GlobalFlags): Promise<number> {
  if (images.length > 0 || flags.imagesFile !== undefined || flags.dryRun)
    throw new UsageError('archives take no IMAGE arguments, --images-file or --dry-run');
  // Loaded on use, as the image-set parser is.
  const archive = await import('./mirror-archive.js');
  const print = (result: MirrorResult): string =>
    flags.json ? JSON.stringify(jsonResult(result)) : describeResult(result);
  const common = { ...flags, platforms: parsePlatforms(flags.platform), debug: global.debug === true };
  const from = archive.archiveDir(flags.from);
  if (from !== undefined) {
    if (flags.to === undefined || flags.to.startsWith('file://') || flags.config !== undefined)
      throw new UsageError('--from file://DIR needs --to REGISTRY[/PREFIX] and no --config');
    return archive.runArchiveToMirror({ ...common, to: flags.to }, from, print);
  }
  if (flags.config === undefined) throw new UsageError('--to file://DIR needs --config FILE');
  return archive.runMirrorToArchive(
    { ...common, to: flags.to ?? '', config: flags.config },
    archive.archiveDir(flags.to)!,
    print,
  );
}

async function runMirror(
  images: string[],
  flags: MirrorCommandFlags & { to: string },
  global: GlobalFlags,
): Promise<number> {
  const listed = flags.imagesFile === undefined ? [] : await readImagesFile(flags.imagesFile);
  const all = [...images, ...listed];
  if (all.length === 0) throw new UsageError('mirror needs at least one IMAGE or --images-file');
  const pairs = mirrorPairs(all, flags.to);
  const logger = createCliLogger(global.debug === true);
  const runtime = await createRuntime(flags, logger, {
    source: pairs.map((p) => p.source.registry),
    destination: pairs.map((p) => p.destination.registry),
  });
  const started = Date.now();
  const options = {
    platforms: parsePlatforms(flags.platform),
    referrers: flags.referrers === true,
    includeForeignLayers: flags.includeForeignLayers === true,
    concurrency: flags.concurrency,
    failFast: flags.failFast === true,
  };
  try {
    if (flags.dryRun) {
      const { dryRunMirror } = await import('./mirror-dry-run.js');
      return await dryRunMirror(pairs, runtime, options, flags.json === true);
    }
    const results = await mirrorImages(pairs, runtime.registries, runtime.copier, options, (result) =>
      flags.quiet
        ? true
        : process.stdout.write(flags.json ? `${JSON.stringify(jsonResult(result))}\n` : `${describeResult(result)}\n`),
    );
    const failed = results.filter((r) => r.status === 'failed').length;
    const copied = results.filter((r) => r.status === 'copied').length;
    const bytes = results.reduce((sum, r) => sum + (r.status === 'failed' ? 0 : r.bytes), 0);
    const summary = `${results.length} images: ${copied} copied, ${results.length - copied - failed} skipped, ${failed} failed; ${formatBytes(bytes)} moved in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    if (!flags.quiet) process.stderr.write(`${summary}\n`);
    return failed > 0 ? 1 : 0;
  } finally {
    await runtime.close();
  }
}

async function readImagesFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --images-file ${path}`, { cause: err });
  }
  return text
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter((line) => line !== '');
}

/** The registry hosts of locations (a layout has none): where a side's credential may go. */
function registriesOf(locations: readonly Location[]): string[] {
  return locations.flatMap((l) => (l.kind === 'registry' ? [l.ref.registry] : []));
}

/**
 * Where `ferry copy` writes: the destination as given, except that a tagless `oci:DIR` takes the
 * source's tag (`latest` when the source names none, e.g. a digest alone).
 */
function copyDestination(destination: Location, source: Location): Location {
  if (destination.kind === 'registry' || destination.ref.tag !== undefined) return destination;
  return { kind: 'layout', ref: { ...destination.ref, tag: source.ref.tag ?? 'latest' } };
}

function jsonResult(result: MirrorResult): object {
  if (result.status === 'failed') return result;
  const { source, destination, digest, mediaType, status, blobs, bytes } = result;
  return {
    source,
    destination,
    digest,
    mediaType,
    status,
    blobs,
    bytes,
    ...(result.referrers === undefined ? {} : { referrers: result.referrers }),
  };
}

function describeResult(result: MirrorResult | CopyResult): string {
  if (result.status === 'failed') return `failed   ${result.source} → ${result.destination}: ${result.error}`;
  const { blobs } = result;
  const referrers =
    'referrers' in result && result.referrers !== undefined
      ? `; ${result.referrers} referrer${result.referrers === 1 ? '' : 's'}`
      : '';
  return `${result.status.padEnd(8)} ${result.source} → ${result.destination} ${result.digest} (${blobs.copied} copied, ${blobs.mounted} mounted, ${blobs.skipped} skipped; ${formatBytes(result.bytes)}${referrers})`;
}

/** A copy the CLI started failed: the message names both ends, the cause says why (exit code 1). */
class CopyFailedError extends Error {
  override readonly name = 'CopyFailedError';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}
