import { type Command, Option } from 'commander';
import { addOneRegistryOptions, addRegistryAccessOptions, positiveInt } from './options.js';
import type { LoginFlags } from './login.js';
import type { Verb, VerbFlags } from './verbs-run.js';

// The verbs registry users reach for (issue 12): skopeo's inspect and login, crane's digest,
// manifest, catalog, tag and delete, and shell completion. Each loads its work on use.

const example = (...lines: string[]): string => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`;

/** Adds inspect, digest, manifest, catalog, tag, delete, login and completion; `done` receives the exit code. */
export function addVerbCommands(program: Command, done: (code: number) => void): void {
  const debug = (): boolean => program.opts<{ debug?: boolean }>().debug === true;
  const run = async (verb: Verb, args: string[], flags: VerbFlags): Promise<void> => {
    const { runVerb } = await import('./verbs-run.js');
    done(await runVerb(verb, args, flags, debug()));
  };
  const verb = (name: string): Command => addOneRegistryOptions(program.command(name));

  verb('inspect')
    .argument('<ref>', 'REGISTRY/PATH[:TAG|@DIGEST]')
    .description('show an image: digest, media type, platforms, created, labels, layers (as skopeo inspect)')
    .option('--raw', 'print the manifest exactly as the registry serves it')
    .option('--config', "print the image's config (with --raw: its exact bytes)")
    .option('--platform <os/arch[/variant]>', "the image of an index to show (default: this machine's)")
    .option('--no-tags', 'do not list the repository tags')
    .option('--json', "print skopeo inspect's JSON fields")
    .addHelpText(
      'after',
      example('ferry inspect docker.io/library/alpine:3.20', 'ferry inspect --raw quay.io/org/app@sha256:…'),
    )
    .action((ref: string, flags: VerbFlags) => run('inspect', [ref], flags));
  verb('digest')
    .argument('<ref>', 'REGISTRY/PATH[:TAG]')
    .description('print the digest of the manifest a tag points at (as crane digest)')
    .addHelpText('after', example('ferry digest registry.k8s.io/pause:3.10'))
    .action((ref: string, flags: VerbFlags) => run('digest', [ref], flags));
  verb('manifest')
    .argument('<ref>', 'REGISTRY/PATH[:TAG|@DIGEST]')
    .description('print the manifest exactly as the registry serves it (as crane manifest)')
    .addHelpText('after', example('ferry manifest ghcr.io/org/app:1.0 | jq .'))
    .action((ref: string, flags: VerbFlags) => run('manifest', [ref], flags));
  verb('catalog')
    .argument('<registry>', 'a registry host (with port), e.g. localhost:5000')
    .description('list the repositories of a registry, all pages (GET /v2/_catalog)')
    .addOption(
      new Option('--page-size <n>', 'repositories asked for per page (n=; default 1000)').argParser(positiveInt),
    )
    .option('--json', 'print {"registry","repositories":[…]}')
    .addHelpText('after', example('ferry catalog localhost:5000'))
    .action((registry: string, flags: VerbFlags) => run('catalog', [registry], flags));
  verb('tag')
    .argument('<ref>', 'REGISTRY/PATH:TAG or @DIGEST of an existing manifest')
    .argument('<new-tag>', 'the tag to add in the same repository')
    .description('tag a manifest again in its repository, without copying anything (as crane tag)')
    .addHelpText('after', example('ferry tag registry.example.com/app:1.0.3 1.0'))
    .action((ref: string, newTag: string, flags: VerbFlags) => run('tag', [ref, newTag], flags));
  verb('delete')
    .argument('<ref>', 'REGISTRY/PATH@DIGEST, or :TAG (resolved to its digest first)')
    .description('delete a manifest by digest, and so every tag on it (ECR: BatchDeleteImage)')
    .addHelpText('after', example('ferry delete registry.example.com/app@sha256:…'))
    .action((ref: string, flags: VerbFlags) => run('delete', [ref], flags));

  addRegistryAccessOptions(program.command('login'))
    .argument('<registry>', 'the registry host, e.g. quay.io or docker.io')
    .description('check credentials against a registry and store them in the containers auth file (as skopeo login)')
    .option('-u, --username <user>', 'the user name')
    .addOption(new Option('-p, --password <password>', 'the password (visible in ps: prefer --password-stdin)'))
    .option('--password-stdin', 'read the password from standard input')
    .addHelpText('after', example('echo "$TOKEN" | ferry login quay.io -u robot+ci --password-stdin'))
    .action(async (registry: string, flags: LoginFlags) => {
      const { runLogin } = await import('./login.js');
      done(await runLogin(registry, flags, debug()));
    });

  program
    .command('completion')
    .argument('<shell>', 'bash, zsh or fish')
    .description('print a shell completion script')
    .addHelpText('after', example('source <(ferry completion bash)', 'ferry completion fish | source'))
    .action(async (shell: string) => {
      const { completionScript } = await import('./completion.js');
      process.stdout.write(completionScript(program, shell));
      done(0);
    });
}
