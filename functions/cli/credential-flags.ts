import { readFile } from 'node:fs/promises';
import { type Credential, parseUserPass } from '../oci/auth/credentials.js';
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

/**
 * One side's credential from `USER:PASS`: the flag, else the file, else the environment variable;
 * undefined when none is set (the auth files and ECR are asked then). The flag and the file
 * together are a usage error (which one was meant?); either overrides the environment. A file or
 * the environment keeps the password out of the process table (`ps`, /proc/PID/cmdline).
 */
export async function resolveCredentials(sources: CredentialSources, env: NodeJS.ProcessEnv = process.env): Promise<Credential | undefined> {
  const { value, file, flag, envName } = sources;
  if (value !== undefined && file !== undefined) throw new UsageError(`${flag} and ${flag}-file are both set: use one`);
  if (value !== undefined) return parseUserPass(value, flag);
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${flag}-file ${file}`, { cause: err });
    }
    const creds = text.replace(/\r?\n$/, '');
    if (creds.includes('\n')) throw new UsageError(`${flag}-file ${file} must hold one line, USER:PASS`);
    return parseUserPass(creds, `${flag}-file ${file}`);
  }
  const fromEnv = env[envName];
  return fromEnv === undefined || fromEnv === '' ? undefined : parseUserPass(fromEnv, envName);
}
