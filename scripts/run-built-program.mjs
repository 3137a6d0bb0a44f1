// Shared by `pnpm bench` and `pnpm reliability`: builds a program and what it depends on with
// turbo (cached), then runs its dist entry on plain Node with the command's arguments, and exits
// with its code. A failed build runs nothing.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

/** Runs `command` from the repository root, inheriting stdio; resolves to its exit code. */
export function run(command, commandArgs, env = process.env) {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { stdio: 'inherit', env, cwd: root });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

/**
 * @param {{ name: string, filters: string[], entry: string, nothingRan: string, nodeArgs?: string[] }} program
 *   `name` labels the messages; `filters` are turbo `--filter` values; `entry` is the built
 *   script, relative to the repository root; `nothingRan` ends the build-failure message;
 *   `nodeArgs` go to Node before the script.
 */
export async function runBuiltProgram(program) {
  const args = process.argv.slice(2).filter((arg) => arg !== '--');
  const startedAt = Date.now();
  const built = await run('pnpm', [
    'exec',
    'turbo',
    'run',
    'build',
    ...program.filters.map((filter) => `--filter=${filter}`),
    '--output-logs=errors-only',
  ]);
  if (built !== 0) {
    console.error(`pnpm ${program.name}: the build failed (see above); ${program.nothingRan}`);
    process.exit(built);
  }
  console.error(`pnpm ${program.name}: built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
  process.exit(
    await run(process.execPath, [...(program.nodeArgs ?? []), join(root, program.entry), ...args]),
  );
}
