import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from './embedded-postgres.js';

/**
 * Vitest global setup: use `PG_URL` when set (CI, or the root test script, which starts one
 * embedded server for the whole run); otherwise start an embedded PostgreSQL for this run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.PG_URL;
  if (given) {
    project.provide('racefreePgUrl', given);
    return async () => {};
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'racefree-pg-'));
  const server = await startEmbeddedPostgres({ dataDir });
  project.provide('racefreePgUrl', server.url);
  return () => server.stop();
}
