import type { Command } from 'commander';
import { parseCatalog } from '../mirror/operators/fbc.js';
import { readCatalogImage } from '../mirror/operators/catalog-image.js';
import { formatChannelVersions, formatPackage, formatPackages } from '../mirror/operators/list.js';
import { UsageError } from '../oci/errors.js';
import { manifestRef, parseImageReference } from '../oci/reference.js';
import { createCliLogger } from './log.js';
import { addRegistryAccessOptions } from './options.js';
import { createRuntime } from './runtime.js';

/** `ferry list operators`'s flags: the source side of the copy flags, and what to list. */
interface ListOperatorsFlags {
  readonly catalog: string;
  readonly package?: string;
  readonly channel?: string;
  readonly srcCreds?: string;
  readonly srcCredsFile?: string;
  readonly authfile?: string;
  readonly insecure: string[];
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
}

/**
 * Adds `ferry list operators --catalog REF [--package NAME [--channel NAME]]` (issue 10): what
 * `oc-mirror list operators` prints (operators/list.ts) — the packages with their default
 * channels; a package's channels and heads; a channel's versions. The catalog is read from the
 * registry like a copy's source (credentials, TLS); of a multi-arch catalog, the linux/amd64
 * image (else the first). `done` receives the exit code.
 */
export function addListCommand(program: Command, done: (code: number) => void): void {
  const list = program.command('list').description('list what OpenShift content holds');
  addRegistryAccessOptions(list.command('operators'))
    .description('list the packages, channels and versions of an operator catalog (as oc-mirror list operators)')
    .requiredOption('--catalog <reference>', 'the catalog image, by tag or digest')
    .option('--package <name>', "list this package's channels and their heads")
    .option('--channel <name>', "with --package: list this channel's versions")
    .option(
      '--src-creds <user:pass>',
      'credentials for the registry (visible in ps: prefer the file or FERRY_SRC_CREDS)',
    )
    .option('--src-creds-file <path>', 'file holding USER:PASS for the registry')
    .action(async (flags: ListOperatorsFlags) => {
      done(await runListOperators(flags, program.opts<{ debug?: boolean }>().debug === true));
    });
}

async function runListOperators(flags: ListOperatorsFlags, debug: boolean): Promise<number> {
  if (flags.channel !== undefined && flags.package === undefined) throw new UsageError('--channel needs --package');
  const ref = parseImageReference(flags.catalog);
  const runtime = await createRuntime({ ...flags, createRepositories: false }, createCliLogger(debug), {
    source: [ref.registry],
    destination: [],
  });
  try {
    const repository = runtime.registries.repository({ kind: 'registry', ref }, 'source');
    const top = await repository.getManifest(manifestRef(ref));
    let reference: string = top.digest;
    if (top.kind === 'index') {
      const images = top.index.manifests.filter((m) => m.platform?.os !== 'unknown');
      const amd64 = images.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64');
      reference = (amd64 ?? images[0])?.digest ?? top.digest;
    }
    const content = await readCatalogImage(repository, reference);
    const catalog = parseCatalog(content.platforms[0]!.files);
    const text =
      flags.package === undefined
        ? formatPackages(catalog)
        : flags.channel === undefined
          ? formatPackage(catalog, flags.package)
          : formatChannelVersions(catalog, flags.package, flags.channel);
    process.stdout.write(text);
    return 0;
  } finally {
    await runtime.close();
  }
}
