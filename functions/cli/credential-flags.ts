import { readFile } from 'node:fs/promises';
import { type Credential, type CredentialStore, parseUserPass, StaticCredentials } from '../oci/auth/credentials.js';
import { UsageError } from '../oci/errors.js';

/** Where one side's `USER:PASS` may come from: the flag, a file, or the environment. */
export interface CredentialSources {
  /** `--src-creds` / `--dest-creds`: visible in the process table, so for throwaway credentials. */
  readonly value?: string | undefined;
  /** `--src-creds-file` / `--dest-creds-file`: a file holding `USER:PASS` (one trailing newline allowed). */
  readonly file?: string | undefined;
  /** The flag's name, for messages (`--src-creds`). */
  readonly flag: string;
  /** `FERRY_SRC_CREDS` / `FERRY_DEST_CREDS`. */
  readonly envName: string;
}

/** One side's credential and where it came from (`--src-creds`, `--src-creds-file`, `FERRY_SRC_CREDS`), for messages. */
export interface SideCredential {
  readonly credential: Credential;
  readonly from: string;
}

/**
 * One side's credential from `USER:PASS`: the flag, else the file, else the environment variable;
 * undefined when none is set (the auth files and ECR are asked then). The flag and the file
 * together are a usage error (which one was meant?); either overrides the environment. A file or
 * the environment keeps the password out of the process table (`ps`, /proc/PID/cmdline).
 */
export async function resolveCredentials(
  sources: CredentialSources,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SideCredential | undefined> {
  const { value, file, flag, envName } = sources;
  if (value !== undefined && file !== undefined) throw new UsageError(`${flag} and ${flag}-file are both set: use one`);
  if (value !== undefined) return { credential: parseUserPass(value, flag), from: flag };
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${flag}-file ${file}`, { cause: err });
    }
    const creds = text.replace(/\r?\n$/, '');
    if (creds.includes('\n')) throw new UsageError(`${flag}-file ${file} must hold one line, USER:PASS`);
    return { credential: parseUserPass(creds, `${flag}-file ${file}`), from: `${flag}-file` };
  }
  const fromEnv = env[envName];
  return fromEnv === undefined || fromEnv === ''
    ? undefined
    : { credential: parseUserPass(fromEnv, envName), from: envName };
}

/**
 * Binds one side's credential to the one registry host of that side: a secret is only ever sent
 * to the registry it is meant for (and to the token realm that registry names, as Docker does).
 * A side with no registry (an `oci:` layout) leaves it unused. A side on several registries
 * (`ferry mirror` from more than one) is a usage error: one password cannot be meant for all of
 * them, and each registry's own credentials belong in an auth file.
 */
export function bindCredential(
  found: SideCredential | undefined,
  registries: readonly string[],
  side: 'source' | 'destination',
): CredentialStore | undefined {
  if (found === undefined) return undefined;
  const hosts = [...new Set(registries)];
  if (hosts.length > 1) {
    const images = side === 'source' ? 'the images come from' : 'the images go to';
    throw new UsageError(
      `${found.from} is for one registry, but ${images} ${hosts.length} registries (${hosts.join(', ')}): put each registry's credentials in an auth file (--authfile) instead`,
    );
  }
  return hosts.length === 0 ? undefined : new StaticCredentials(new Map([[hosts[0]!, found.credential]]));
}
