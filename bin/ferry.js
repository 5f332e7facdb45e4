#!/usr/bin/env node
// Entry point of the `ferry` command (`npm link` or `npm install -g .` put it on the PATH; `npx
// ferry` works too). The CLI is bundled into one CommonJS file by `npm run build` (run by `npm ci`
// through `prepare`) and compiled with a V8 code cache kept beside it, so a run starts in about
// half the time loading hundreds of modules takes. Start-up is most of a no-op sync's cost.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';

// undici parses HTTP with a WebAssembly module; V8 tiers it up with TurboFan on a background
// thread that process exit then waits for (~30 ms a run). Baseline code parses headers fast
// enough: bodies are streamed, not parsed.
setFlagsFromString('--liftoff-only');

const bundle = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'ferry.cjs');
const cacheFile = `${bundle}.cache`;
let cachedData;
try {
  cachedData = readFileSync(cacheFile);
} catch {
  cachedData = undefined;
}
// WARNING: the bundle must not use import() of anything outside it: a script compiled from a code
// cache has no dynamic-import callback. The AWS SDK is external and reached through require().
const script = new Script(Module.wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
const module = { exports: {} };
script.runInThisContext()(module.exports, createRequire(bundle), module, bundle, dirname(bundle));

process.exitCode = await module.exports.main(process.argv.slice(2), {
  // The local runtime (dynalite, the local Step Functions interpreter) loads only for `serve`.
  serve: async (flags) => (await import('../dist/functions/cli/serve.js')).runServe(flags),
});

if (cachedData === undefined || script.cachedDataRejected) {
  // First run (or a new Node or bundle): keep what V8 compiled for the next run. Best effort.
  try {
    const temp = `${cacheFile}.${process.pid}`;
    writeFileSync(temp, script.createCachedData());
    renameSync(temp, cacheFile);
  } catch {
    // A read-only install simply runs without the cache.
  }
}
