import { type Command, InvalidArgumentError, Option } from 'commander';
import { describeError, UsageError } from '../oci/errors.js';
import { formatLocation, type Location, parseLocation } from '../oci/reference.js';
import { createCliLogger } from './log.js';
import { addRegistryAccessOptions } from './options.js';
import { createRuntime } from './runtime.js';

/** `ferry ls`'s flags: the source side of the copy flags, and the page size. */
interface LsFlags {
  readonly srcCreds?: string;
  readonly srcCredsFile?: string;
  readonly authfile?: string;
  readonly insecure: string[];
  readonly tlsVerify: string[];
  readonly caFile?: string;
  readonly registryEndpoint: string[];
  readonly pageSize?: number;
  readonly json?: boolean;
}

const pageSize = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be an integer from 1 to 10000');
  return n;
};

/**
 * Adds `ferry ls REPOSITORY [--json]` (pinned in issue 9): every tag of a repository, all
 * `tags/list` pages, one a line in the registry's order. `--json` prints one object,
 * `{"repository": "<registry>/<path>" | "oci:DIR", "tags": [...]}` — an object rather than a bare
 * array so that the name the tags belong to travels with them (as `skopeo list-tags` does).
 * Credentials and TLS as `ferry copy`'s source side. `done` receives the exit code.
 */
export function addLsCommand(program: Command, done: (code: number) => void): void {
  addRegistryAccessOptions(program.command('ls'))
    .argument('<repository>', 'REGISTRY/PATH (docker.io short names allowed) or oci:DIR, without tag or digest')
    .description('list the tags of a repository, one a line (all pages)')
    .option(
      '--src-creds <user:pass>',
      'credentials for the registry (visible in ps: prefer the file or FERRY_SRC_CREDS)',
    )
    .option('--src-creds-file <path>', 'file holding USER:PASS for the registry')
    .addOption(
      new Option('--page-size <n>', 'tags asked for per tags/list page (n=; default 1000)').argParser(pageSize),
    )
    .option('--json', 'print {"repository","tags":[…]} on stdout')
    .action(async (repository: string, flags: LsFlags) => {
      done(await runLs(repository, flags, program.opts<{ debug?: boolean }>().debug === true));
    });
}

async function runLs(input: string, flags: LsFlags, debug: boolean): Promise<number> {
  const location = parseRepository(input);
  const registries = location.kind === 'registry' ? [location.ref.registry] : [];
  const runtime = await createRuntime({ ...flags, createRepositories: false }, createCliLogger(debug), {
    source: registries,
    destination: [],
  });
  const display =
    location.kind === 'registry' ? `${location.ref.registry}/${location.ref.repository}` : formatLocation(location);
  try {
    const repository = runtime.registries.repository(location, 'source');
    const tags = await repository
      .listTags(flags.pageSize === undefined ? {} : { pageSize: flags.pageSize })
      .catch((err: unknown) => {
        throw new ListFailedError(`ls ${display} failed: ${describeError(err)}`, err);
      });
    process.stdout.write(
      flags.json ? `${JSON.stringify({ repository: display, tags })}\n` : tags.map((t) => `${t}\n`).join(''),
    );
    return 0;
  } finally {
    await runtime.close();
  }
}

/** A repository: a registry reference or `oci:DIR`, refused with a tag or digest (which tags would they mean?). */
function parseRepository(input: string): Location {
  const location = parseLocation(input);
  const raw = input.replace(/^docker:\/\//, '');
  const last = raw.slice(raw.lastIndexOf('/') + 1);
  const named = location.kind === 'layout' ? location.ref.tag !== undefined : last.includes(':') || last.includes('@');
  if (named) throw new UsageError(`ls takes a repository without tag or digest, not "${input}"`);
  return location;
}

/** Listing failed: the message names registry and repository, the cause says why (exit code 1). */
class ListFailedError extends Error {
  override readonly name = 'ListFailedError';
  constructor(message: string, cause: unknown) {
    super(message, { cause });
  }
}
