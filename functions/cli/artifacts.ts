import { type Command, Option } from 'commander';
import { addOneRegistryOptions, collect } from './options.js';
import type { ArtifactFlags } from './artifacts-run.js';

// `ferry push / pull / attach / discover` (issue 12, "Pinned: artifacts"), compatible with oras
// 1.x: what oras pulls Ferry pushed, and what oras pushed Ferry pulls (docs/oras-format.md).

const examples = {
  push: `
Examples:
  ferry push registry.example.com/team/manifests:v1 manifests.tgz:application/vnd.acme.manifests.v1.tar+gzip
  ferry push localhost:5000/notes:latest README.md docs/ --artifact-type application/vnd.acme.notes.v1`,
  pull: `
Examples:
  ferry pull registry.example.com/team/manifests:v1 -o ./out`,
  attach: `
Examples:
  ferry attach registry.example.com/app:1.0 sbom.spdx.json:application/spdx+json --artifact-type application/spdx+json`,
  discover: `
Examples:
  ferry discover registry.example.com/app:1.0
  ferry discover registry.example.com/app:1.0 --artifact-type application/spdx+json --json`,
};

/** Adds the artifact verbs; `done` receives the exit code. The work is loaded on use. */
export function addArtifactCommands(program: Command, done: (code: number) => void): void {
  const run = async (
    verb: 'push' | 'pull' | 'attach' | 'discover',
    ref: string,
    files: string[],
    flags: ArtifactFlags,
  ) => {
    const { runArtifactCommand } = await import('./artifacts-run.js');
    done(await runArtifactCommand(verb, ref, files, flags, program.opts<{ debug?: boolean }>().debug === true));
  };
  addOneRegistryOptions(program.command('push'))
    .argument('<ref>', 'REGISTRY/PATH:TAG (or @DIGEST) to push to')
    .argument('<files...>', 'FILE[:MEDIATYPE] or a directory (packed as tar+gzip), in layer order')
    .description('push files as an OCI artifact, as oras push does')
    .option('--artifact-type <type>', 'the artifact type (default application/vnd.unknown.artifact.v1)')
    .option('--annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
    .option('--config <file[:mediatype]>', 'a config blob instead of the empty one')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples.push)
    .action((ref: string, files: string[], flags: ArtifactFlags) => run('push', ref, files, flags));
  addOneRegistryOptions(program.command('pull'))
    .argument('<ref>', 'REGISTRY/PATH:TAG or @DIGEST of the artifact')
    .description("write an artifact's files into a directory, as oras pull does (digests verified)")
    .addOption(new Option('-o, --output <dir>', 'the directory to write into').default('.'))
    .option('--allow-path-traversal', 'let titles write outside the output directory (as oras -T)')
    .option('--json', 'print the files written as JSON')
    .addHelpText('after', examples.pull)
    .action((ref: string, flags: ArtifactFlags) => run('pull', ref, [], flags));
  addOneRegistryOptions(program.command('attach'))
    .argument('<subject>', 'REGISTRY/PATH:TAG or @DIGEST the artifact refers to')
    .argument('<files...>', 'FILE[:MEDIATYPE] or a directory')
    .description('push an artifact that refers to SUBJECT (referrers API, else the sha256-<hex> tag index)')
    .requiredOption('--artifact-type <type>', 'the artifact type')
    .option('--annotation <key=value>', 'a manifest annotation (repeatable)', collect, [])
    .option('--json', 'print the result as JSON')
    .addHelpText('after', examples.attach)
    .action((ref: string, files: string[], flags: ArtifactFlags) => run('attach', ref, files, flags));
  addOneRegistryOptions(program.command('discover'))
    .argument('<ref>', 'REGISTRY/PATH:TAG or @DIGEST')
    .description('show what refers to an image or artifact, as a tree (oras discover)')
    .option('--artifact-type <type>', 'only referrers of this type')
    .option('--json', 'print the tree as JSON (oras 1.3 --format json)')
    .addHelpText('after', examples.discover)
    .action((ref: string, flags: ArtifactFlags) => run('discover', ref, [], flags));
}
