/**
 * `npm run build`'s bundling step: the CLI as one CommonJS file (dist/ferry.cjs, loaded by
 * bin/ferry.js with a V8 code cache), with the package version compiled in as FERRY_VERSION so
 * that `ferry --version` reads no file at start-up and works wherever the package is installed.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const root = resolve(import.meta.dirname, '..', '..');
const manifest: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const version =
  typeof manifest === 'object' && manifest !== null && 'version' in manifest && typeof manifest.version === 'string'
    ? manifest.version
    : undefined;
if (version === undefined) throw new Error('package.json has no version');
const outfile = join(root, 'dist', 'ferry.cjs');
await build({
  entryPoints: [join(root, 'dist', 'functions', 'cli', 'main.js')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  logLevel: 'warning',
  external: ['@aws-sdk/*'],
  outfile,
  define: { FERRY_VERSION: JSON.stringify(version) },
});
// The code cache belongs to the previous bundle.
rmSync(`${outfile}.cache`, { force: true });
