import type { Command } from 'commander';
import { UsageError } from '../oci/errors.js';

// `ferry completion bash|zsh|fish`: shell completion generated from the command tree itself, so
// every command and long option is offered and none is listed that does not exist.

interface Spec {
  readonly name: string;
  readonly description: string;
  readonly options: readonly { readonly long: string; readonly description: string }[];
}

function specs(program: Command): Spec[] {
  return program.commands
    .filter((c) => c.name() !== 'help')
    .map((c) => ({
      name: c.name(),
      description: c.description().split('\n')[0] ?? '',
      options: [...c.options, ...program.options]
        .filter((o) => o.long !== undefined)
        .map((o) => ({ long: o.long!, description: o.description })),
    }));
}

const words = (list: readonly string[]): string => list.join(' ');
const fishQuote = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

function bash(commands: readonly Spec[]): string {
  const cases = commands
    .map((c) => `    ${c.name}) COMPREPLY=($(compgen -W "${words(c.options.map((o) => o.long))}" -- "$cur")) ;;`)
    .join('\n');
  return `# ferry completion for bash: source <(ferry completion bash)
_ferry() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${words(commands.map((c) => c.name))} --help --version --debug" -- "$cur"))
    return
  fi
  if [[ "$cur" != -* ]]; then
    COMPREPLY=()
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -o default -F _ferry ferry
`;
}

function fish(commands: readonly Spec[]): string {
  const lines = ['# ferry completion for fish: ferry completion fish | source', 'complete -c ferry -f'];
  for (const c of commands)
    lines.push(`complete -c ferry -n '__fish_use_subcommand' -a ${c.name} -d ${fishQuote(c.description)}`);
  for (const c of commands)
    for (const o of c.options)
      lines.push(
        `complete -c ferry -n '__fish_seen_subcommand_from ${c.name}' -l ${o.long.slice(2)} -d ${fishQuote(o.description)}`,
      );
  return `${lines.join('\n')}\n`;
}

/** The completion script for `shell`, from `program`'s commands and options. */
export function completionScript(program: Command, shell: string): string {
  const commands = specs(program);
  if (shell === 'bash') return bash(commands);
  // zsh runs the bash function through bashcompinit, as kubectl and others do.
  if (shell === 'zsh')
    return `#compdef ferry\n# ferry completion for zsh: source <(ferry completion zsh)\nautoload -U +X bashcompinit && bashcompinit\n${bash(commands)}`;
  if (shell === 'fish') return fish(commands);
  throw new UsageError(`completion: ${shell}: give bash, zsh or fish`);
}
