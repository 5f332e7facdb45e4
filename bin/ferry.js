#!/usr/bin/env node
// Entry point for `npx ferry`: the compiled CLI (built by `npm ci` through the `prepare` script).
import { main } from '../dist/functions/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
