#!/usr/bin/env node
// `pnpm demo`: the bookstore, ready to click. Builds the apps (turbo, with its progress), starts
// PostgreSQL (DATABASE_URL, or an embedded server whose data lives under .data/postgres and is
// reused next time), then the web app and the worker against it. DATABASE_URL=mysql://… runs
// the bookstore on MySQL/MariaDB with the job queue on QUEUE_DATABASE_URL (the embedded
// PostgreSQL when unset).
//
// Supervision: every child is started in its own process group (a terminal Ctrl-C reaches only
// this script, which then sends each child exactly one SIGTERM: a second would tell the worker
// not to wait for its jobs in flight) and with an IPC channel it watches. When this script
// ends — Ctrl-C, SIGTERM, SIGHUP (closed terminal), or SIGKILL, which it cannot catch — the
// channels close and every child stops on its own, the embedded server included. pnpm 12 runs
// scripts in a process group of their own, so a SIGINT sent to `pnpm demo`'s group from outside
// a terminal never reaches this script: send SIGTERM to pnpm (it forwards it), or SIGINT to this
// script's own group. If pnpm itself is killed, this script notices and stops too.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setInterval } from 'node:timers';

const root = new URL('..', import.meta.url).pathname;

if (process.argv[2] === '--guard') await guard(process.argv.slice(3));

const port = Number(process.env.PORT || 3000);
const host = process.env.HOST || '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${process.env.PORT}`);
  process.exit(1);
}

/** Children still running, by name: what `stop` has to end. */
const children = new Map();
let stopping = false;

/** Stops the apps (they drain against a live database), then the embedded server; exits. */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  const end = (names) =>
    Promise.all(
      names.map(async (name) => {
        const child = children.get(name);
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // A child that does not stop in time is killed: the demo never hangs on the way out.
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  await end(['build', 'web', 'worker']);
  await end(['postgres']);
  process.exit(code);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(0));
watchPnpm();

await refuseBusyPort();

/**
 * Starts `args` as a child in its own process group, with an IPC channel (the child's signal
 * that this supervisor is gone) and the terminal for its output.
 */
function start(name, args, env = process.env) {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env,
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.set(name, child);
  return child;
}

console.log('Building the bookstore with turbo (cached: seconds; the first build: a few minutes)…');
const startedAt = Date.now();
const build = start('build', [
  join(root, 'scripts/demo.mjs'),
  '--guard',
  'pnpm',
  'exec',
  'turbo',
  'run',
  'build',
  '--filter=web...',
  '--filter=worker...',
  // Each task says when it starts (cache hit or miss) and shows what it printed if it ran.
  '--output-logs=new-only',
]);
const code = await new Promise((resolve) => build.once('exit', (c) => resolve(c ?? 1)));
children.delete('build');
if (stopping) await new Promise(() => {});
if (code !== 0) {
  console.error('The build failed (see above); nothing was started.');
  process.exit(code);
}
console.log(`Built in ${((Date.now() - startedAt) / 1000).toFixed(1)} s.`);

const env = { ...process.env };
const needsEmbedded =
  !env.DATABASE_URL || (env.DATABASE_URL.startsWith('mysql') && !env.QUEUE_DATABASE_URL);
if (needsEmbedded) {
  console.log(
    `Starting an embedded PostgreSQL (data under ${env.DEMO_DATA_DIR || '.data/postgres'})…`,
  );
  const keeper = start('postgres', [join(root, 'scripts/embedded-postgres-keeper.mjs')]);
  const url = await new Promise((resolve) => {
    keeper.once('message', (message) => resolve(message.url));
    keeper.once('exit', (code) => {
      if (!stopping) console.error(`The embedded PostgreSQL did not start (exit ${code}).`);
      void stop(1);
    });
  });
  if (!env.DATABASE_URL) env.DATABASE_URL = url;
  else env.QUEUE_DATABASE_URL = url;
}

for (const [name, entry] of [
  ['web', 'apps/web/dist/main.js'],
  ['worker', 'apps/worker/dist/main.js'],
]) {
  start(name, [join(root, entry)], env).once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); stopping the demo.`);
    void stop(code || 1);
  });
}

/** One line and exit 1 when PORT is taken: before anything is built or started. */
async function refuseBusyPort() {
  const probe = createServer();
  const busy = await new Promise((resolve) => {
    probe.once('error', (error) => resolve(error.code === 'EADDRINUSE' ? true : error));
    probe.listen(port, host, () => probe.close(() => resolve(false)));
  });
  if (busy === true) {
    console.error(
      `PORT ${port} is already in use on ${host}: stop what holds it, or start with another, e.g. PORT=${port + 1} pnpm demo`,
    );
    process.exit(1);
  }
}

/**
 * pnpm runs this script under `sh -c` in a process group of its own; if pnpm is killed, this
 * script would live on unseen. The nearest pnpm ancestor is watched (Linux /proc), and its end
 * stops the demo.
 */
function watchPnpm() {
  if (!process.env.npm_lifecycle_event) return;
  let pid = process.ppid;
  for (let depth = 0; pid > 1 && depth < 4; depth++) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (/pnpm/.test(command)) {
      const pnpm = pid;
      setInterval(() => {
        try {
          process.kill(pnpm, 0);
        } catch {
          void stop(0);
        }
      }, 1000).unref();
      return;
    }
    // Field 4 of /proc/<pid>/stat is the parent's pid (after the parenthesised command).
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
}

/**
 * `demo.mjs --guard <command…>`: runs the command in a process group of its own and ends that
 * group when the supervisor's IPC channel closes — for children that cannot watch the channel
 * themselves (turbo). Exits with the command's code.
 */
async function guard(command) {
  const [file, ...args] = command;
  const child = spawn(file, args, { cwd: root, stdio: 'inherit', detached: true });
  const endGroup = () => {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  };
  process.on('disconnect', endGroup);
  process.on('SIGTERM', endGroup);
  const code = await new Promise((resolve) =>
    child.once('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
  );
  process.exit(code);
}
