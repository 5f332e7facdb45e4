import type { Logger } from '../oci/log.js';
import { silentLogger } from '../oci/log.js';

/** `--debug`: one JSON line per event on stderr. Otherwise nothing. */
export function createCliLogger(debug: boolean): Logger {
  if (!debug) return silentLogger;
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { debug: write('debug'), info: write('info'), warn: write('warn') };
}
