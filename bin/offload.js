#!/usr/bin/env node
// Entry point of the `offload` command: the TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/offload/cli/main.js';

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
