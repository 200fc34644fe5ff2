#!/usr/bin/env node
// Entry point of the `offload` command: the TypeScript sources are compiled to dist/ by `npm install` (prepare).
import { main } from '../dist/offload/cli/main.js';

// A reader that went away (`offload dump x.o | head -1`): stop quietly, as Unix tools do on SIGPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
