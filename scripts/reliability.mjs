#!/usr/bin/env node
// `pnpm reliability [--quick] [--only <scenario,…>] [--verbose]`: builds the reliability
// program, the web app and the worker (turbo, cached), then runs the program on plain Node
// from apps/reliability/dist. It starts the built apps itself (node apps/web/dist/main.js,
// node apps/worker/dist/main.js), injects faults with real signals, and ends with a table of
// what held; the exit code is non-zero if anything did not.
import { runBuiltProgram } from './run-built-program.mjs';

await runBuiltProgram({
  name: 'reliability',
  filters: ['reliability...', 'web...', 'worker...'],
  entry: 'apps/reliability/dist/main.js',
  nothingRan: 'nothing was run.',
});
