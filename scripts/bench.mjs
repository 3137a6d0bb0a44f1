#!/usr/bin/env node
// `pnpm bench [--quick] [options]`: builds the bench and what it depends on (turbo, cached),
// then runs it on plain Node from apps/bench/dist. Every argument goes to the bench program
// (`pnpm bench --help` lists them).
import { runBuiltProgram } from './run-built-program.mjs';

await runBuiltProgram({
  name: 'bench',
  filters: ['bench...'],
  entry: 'apps/bench/dist/main.js',
  nothingRan: 'nothing was measured.',
  // In a full run each contender's run starts from a collected heap (see runScenario), so one
  // contender's garbage is not collected, and charged, inside the next one's timed window.
  nodeArgs: ['--expose-gc'],
});
