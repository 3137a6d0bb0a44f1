#!/usr/bin/env node
// CI: install racefree the way a stranger does. The four libraries are packed (`pnpm pack`:
// workspace and catalog versions resolved), installed with a plain `npm install` into an empty
// project next to unpinned drizzle-orm, postgres, pg, mysql2, graphile-worker and hono — the
// newest the registry serves today — and scripts/packed-smoke.mjs runs there on Node 24 (the
// newest graphile-worker needs Node >= 22.18).
import { spawnSync } from 'node:child_process';
import { node24, run } from './node24.mjs';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const LIBRARIES = ['transactions', 'rows', 'jobs', 'hono'];
const PEERS = ['drizzle-orm', 'postgres', 'pg', 'mysql2', 'graphile-worker', 'hono'];

const { node, env } = node24('ci-packed-install');

const filters = LIBRARIES.map((name) => `--filter=@racefree/${name}`);
if (
  run('pnpm', ['exec', 'turbo', 'run', 'build', ...filters, '--output-logs=errors-only'], {
    cwd: root,
  }) !== 0
)
  process.exit(1);
const project = mkdtempSync(join(tmpdir(), 'racefree-packed-'));
let code = 1;
try {
  const packs = join(project, 'packs');
  mkdirSync(packs);
  for (const name of LIBRARIES)
    if (
      run('pnpm', ['pack', '--pack-destination', packs], {
        cwd: join(root, 'packages', name),
        stdio: 'ignore',
      }) !== 0
    ) {
      console.error(`ci-packed-install: pnpm pack failed for @racefree/${name}`);
      process.exit(1);
    }
  const tarballs = readdirSync(packs).map((file) => join(packs, file));
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'stranger', private: true, type: 'module' }),
  );
  console.log(
    `ci-packed-install: npm install ${tarballs.length} packed libraries + ${PEERS.join(' ')}`,
  );
  if (
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...PEERS], {
      cwd: project,
      env,
    }) !== 0
  ) {
    console.error('ci-packed-install: a plain npm install of the packed libraries failed');
    process.exit(1);
  }
  const installed = spawnSync('npm', ['ls', '--depth=0', ...PEERS], {
    cwd: project,
    env,
    encoding: 'utf8',
  });
  console.log(installed.stdout.trim());
  copyFileSync(join(root, 'scripts', 'packed-smoke.mjs'), join(project, 'smoke.mjs'));
  code = run(node, ['smoke.mjs'], { cwd: project, env });
} finally {
  rmSync(project, { recursive: true, force: true });
}
process.exit(code);
