#!/usr/bin/env node
// `pnpm demo`: the bookstore, ready to click. Builds the apps, starts PostgreSQL (DATABASE_URL,
// or an embedded server whose data lives under .data/postgres and is reused next time), then
// the web app and the worker against it. DATABASE_URL=mysql://… runs the bookstore on
// MySQL/MariaDB with the job queue on QUEUE_DATABASE_URL (the embedded PostgreSQL when unset).
// Ctrl-C stops all three.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (command, args) =>
  new Promise((resolve) =>
    spawn(command, args, { stdio: 'inherit', cwd: root }).on('exit', (code) => resolve(code ?? 1)),
  );

console.log('Building the bookstore…');
const built = await run('pnpm', [
  'exec',
  'turbo',
  'run',
  'build',
  '--filter=web...',
  '--filter=worker...',
  '--output-logs=errors-only',
]);
if (built !== 0) process.exit(built);

const env = { ...process.env };
let embedded;
const needsEmbedded =
  !env.DATABASE_URL || (env.DATABASE_URL.startsWith('mysql') && !env.QUEUE_DATABASE_URL);
if (needsEmbedded) {
  console.log('Starting an embedded PostgreSQL (data under .data/postgres)…');
  embedded = spawn('node', [join(root, 'scripts/embedded-postgres-keeper.mjs')], {
    cwd: root,
    detached: true, // its own process group: Ctrl-C in the terminal does not reach it
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    embedded.stdout.on('data', (chunk) => {
      buffered += chunk;
      if (buffered.includes('\n')) resolve(JSON.parse(buffered.split('\n')[0]).url);
    });
    embedded.once('exit', (code) =>
      reject(new Error(`the embedded PostgreSQL did not start (exit ${code})`)),
    );
  });
  if (!env.DATABASE_URL) env.DATABASE_URL = url;
  else env.QUEUE_DATABASE_URL = url;
}

// Each app in its own process group: a terminal Ctrl-C reaches only this script, which then
// sends each app exactly one SIGTERM (a second signal would tell the worker not to wait for
// its jobs in flight).
const children = [
  [
    'web',
    spawn('node', ['apps/web/dist/main.js'], { cwd: root, env, stdio: 'inherit', detached: true }),
  ],
  [
    'worker',
    spawn('node', ['apps/worker/dist/main.js'], {
      cwd: root,
      env,
      stdio: 'inherit',
      detached: true,
    }),
  ],
];

let stopping = false;
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const [, child] of children) if (child.exitCode === null) child.kill('SIGTERM');
  await Promise.all(
    children.map(([, child]) =>
      child.exitCode === null ? new Promise((r) => child.once('exit', r)) : null,
    ),
  );
  if (embedded && embedded.exitCode === null) {
    embedded.kill('SIGTERM');
    await new Promise((r) => embedded.once('exit', r));
  }
  process.exit(code);
}
for (const [name, child] of children) {
  child.once('exit', (code) => {
    if (!stopping) {
      console.error(`${name} exited (${code}); stopping the demo.`);
      void stop(code || 1);
    }
  });
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
