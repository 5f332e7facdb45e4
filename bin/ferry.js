#!/usr/bin/env node
// Entry point for `npx ferry`: the CLI bundled into one file by `npm run build` (run by `npm ci`
// through `prepare`), which starts about twice as fast as loading hundreds of modules.
import { main } from '../dist/ferry.mjs';

process.exitCode = await main(process.argv.slice(2));
