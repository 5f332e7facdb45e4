import { type Command, Option } from 'commander';
import { UsageError } from '../oci/errors.js';
import { addRegistryAccessOptions, defaultWorkspace, positiveInt } from './options.js';
import type { PruneFlags } from './prune-run.js';

/**
 * Adds `ferry prune` (pinned in issue 9), two-phase like oc-mirror's `delete --generate` /
 * `--delete-yaml-file`: `--config FILE --to REGISTRY[/PREFIX]` writes `delete/delete-images.yaml`
 * into the workspace and deletes nothing; `--delete-yaml-file FILE --to REGISTRY[/PREFIX]`
 * deletes the plan's manifests (ECR: BatchDeleteImage), skipping tags that moved. One line per
 * item (`--json`: one object per line) and a summary on stderr; exit 1 if a delete failed.
 */
export function addPruneCommand(program: Command, done: (code: number) => void): void {
  addRegistryAccessOptions(program.command('prune'))
    .description('plan (--config) or carry out (--delete-yaml-file) deleting the tags an image set no longer selects')
    .option('--config <file>', 'image-set document (ImageSetConfiguration, YAML or JSON): write the delete plan only')
    .option('--delete-yaml-file <file>', 'a delete plan (delete/delete-images.yaml) to carry out')
    .requiredOption('--to <registry[/prefix]>', 'the mirror: nothing outside it is listed or deleted')
    .option('--workspace <dir>', 'where --config writes delete/delete-images.yaml', `./${defaultWorkspace}`)
    .addOption(new Option('--concurrency <n>', 'repositories worked on at once').argParser(positiveInt).default(4))
    .option('--src-creds <user:pass>', 'credentials for the source registries (the set is expanded there)')
    .option('--src-creds-file <path>', 'file holding USER:PASS for the source registries')
    .option('--dest-creds <user:pass>', 'credentials for the mirror registry (must be allowed to delete)')
    .option('--dest-creds-file <path>', 'file holding USER:PASS for the mirror registry')
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags: PruneFlags) => {
      const debug = program.opts<{ debug?: boolean }>().debug === true;
      if ((flags.config === undefined) === (flags.deleteYamlFile === undefined))
        throw new UsageError('prune takes exactly one of --config and --delete-yaml-file');
      // Loaded on use: the image-set parser (yaml, semver) stays out of every other command's start-up.
      const { runPrune } = await import('./prune-run.js');
      done(await runPrune(flags, debug));
    });
}
