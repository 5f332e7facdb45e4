#!/usr/bin/env node
// Entry point for `npx ferry`: the CLI bundled into one file by `npm run build` (run by `npm ci`
// through `prepare`), which starts about twice as fast as loading hundreds of modules.
import { setFlagsFromString } from 'node:v8';

// undici parses HTTP with a WebAssembly module; V8 tiers it up with TurboFan on a background
// thread that process exit then waits for (~30 ms a run). Baseline WebAssembly is plenty for
// parsing response headers: bodies are streamed, not parsed.
setFlagsFromString('--liftoff-only');
const { main } = await import('../dist/ferry.mjs');

process.exitCode = await main(process.argv.slice(2));
