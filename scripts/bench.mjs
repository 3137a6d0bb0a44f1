#!/usr/bin/env node
// `pnpm bench [--quick] [options]`: builds the bench and what it depends on (turbo, cached),
// then runs it on plain Node from apps/bench/dist. Every argument goes to the bench program
// (`pnpm bench --help` lists them).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const args = process.argv.slice(2).filter((arg) => arg !== '--');

function run(command, commandArgs) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { stdio: 'inherit', cwd: root });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const startedAt = Date.now();
const built = await run('pnpm', [
  'exec',
  'turbo',
  'run',
  'build',
  '--filter=bench...',
  '--output-logs=errors-only',
]);
if (built !== 0) {
  console.error('pnpm bench: the build failed (see above); nothing was measured.');
  process.exit(built);
}
console.error(`pnpm bench: built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
process.exit(await run(process.execPath, [join(root, 'apps/bench/dist/main.js'), ...args]));
