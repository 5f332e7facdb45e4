import { type Command, InvalidArgumentError } from 'commander';

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Where `--workspace` defaults to, as oc-mirror's working directory (issue 9): `mirror --config` and `prune`. */
export const defaultWorkspace = 'ferry-workspace';

/** Commander's parser for a positive integer option (`--concurrency`, `--blob-concurrency`). */
export const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
};

/**
 * How Ferry reaches registries, shared by every command that talks to one (`copy`, `mirror`,
 * `ls`): credentials files, plain HTTP / TLS per host, extra CAs, endpoint overrides. Credentials
 * given inline stay with each command: their help names the side (source or destination).
 */
export function addRegistryAccessOptions(command: Command): Command {
  return command
    .option('--authfile <path>', 'containers-auth.json / Docker config.json to read credentials from')
    .option('--insecure <host[:port]>', 'allow plain HTTP / unverified TLS for this registry (repeatable)', collect, [])
    .option('--ca-file <path>', 'extra CA certificates (PEM) to trust')
    .option(
      '--tls-verify <host[:port]>',
      'use https only and verify certificates for this registry, even on loopback (repeatable)',
      collect,
      [],
    )
    .option('--registry-endpoint <host=url>', 'reach a registry host at another base URL (repeatable)', collect, []);
}

/** A command that talks to one registry (push, pull, inspect, tag, …): registry access and `--creds` for it. */
export function addOneRegistryOptions(command: Command): Command {
  return addRegistryAccessOptions(command)
    .option('--creds <user:pass>', 'credentials for the registry (visible in ps: prefer the file or FERRY_CREDS)')
    .option('--creds-file <path>', 'file holding USER:PASS for the registry');
}
