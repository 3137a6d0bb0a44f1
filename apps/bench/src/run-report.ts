import { cpus } from 'node:os';
import { installOutbox } from '@racefree/jobs';
import { redactUrl } from '@racefree/testkit/redact-url';
import { benchJobs, JOBS_DDL, queuePoolFor } from './bench-jobs.js';
import type { DatabaseReport, ScenarioResult } from './bench-report.js';
import { createBenchDatabase } from './create-bench-database.js';
import { evaluateTargets } from './evaluate-targets.js';
import { prepareItems } from './item-tables.js';
import { measureJobsLatency } from './measure-jobs-latency.js';
import {
  type Admin,
  closeClients,
  type DriverName,
  familyOf,
  openAdmin,
  openClients,
} from './open-clients.js';
import type { BenchOptions, ScenarioGroup } from './parse-options.js';
import { runScenario } from './run-scenario.js';
import type { Scenario } from './scenario.js';
import { getOrCreateManyScenarios } from './scenarios/get-or-create-many-scenarios.js';
import { getOrCreateScenarios } from './scenarios/get-or-create-scenarios.js';
import { idempotentPurchaseScenario } from './scenarios/idempotent-purchase-scenario.js';
import { itemScenarios } from './scenarios/item-scenarios.js';
import { jobsSignupScenario } from './scenarios/jobs-signup-scenario.js';
import { purchaseScenario } from './scenarios/purchase-scenario.js';
import { selectForUpdateOrCreateScenarios } from './scenarios/select-for-update-or-create-scenarios.js';
import { updateOrCreateScenarios } from './scenarios/update-or-create-scenarios.js';

/** One database server: `url` is a superuser's, each report's database is made from it. */
export interface Server {
  kind: 'postgres' | 'mysql' | 'mariadb';
  /** e.g. `PostgreSQL 15.20`. */
  server: string;
  url: string;
}

const ITEM_GROUPS = [
  getOrCreateScenarios,
  selectForUpdateOrCreateScenarios,
  updateOrCreateScenarios,
];
/**
 * node-postgres is issue #20's driver axis: getOrCreate and purchase against its own floor.
 * MySQL's jobs are the outbox latency alone (the signup scenario is PostgreSQL's).
 */
const SKIPPED: Partial<Record<DriverName, readonly ScenarioGroup[]>> = {
  'node-postgres': ['select-for-update-or-create', 'update-or-create', 'jobs'],
};

/**
 * Every selected scenario on one server through one driver, in a database made for it and
 * dropped after, with the targets judged; `queueServer` (PostgreSQL) holds the MySQL outbox's
 * queue.
 */
export async function runReport(
  server: Server,
  driver: DriverName,
  options: BenchOptions,
  queueServer: Server,
): Promise<DatabaseReport> {
  const family = familyOf(driver);
  const startedAt = new Date().toISOString();
  const want = (group: string) =>
    options.only.includes(group as ScenarioGroup) &&
    !SKIPPED[driver]?.includes(group as ScenarioGroup);
  const database = await createBenchDatabase(family, server.url);
  process.stderr.write(`\n${server.server} through ${driver}: bench database ${database.name}\n`);
  const admin = openAdmin(family, database.url);
  const queuePool = want('jobs') && family === 'postgres' ? queuePoolFor(database.url) : undefined;
  try {
    await prepareItems(admin);
    const durability = await readDurability(admin);
    const scenarios = ITEM_GROUPS.filter((g) => want(g.name)).flatMap((g) =>
      itemScenarios(g, driver, admin),
    );
    if (want('get-or-create-many'))
      scenarios.push(...getOrCreateManyScenarios(driver, admin, options.mode === 'quick'));
    const maxClients = Math.max(...options.clients);
    if (want('purchase')) scenarios.push(await purchaseScenario(admin, maxClients));
    if (want('idempotency')) scenarios.push(await idempotentPurchaseScenario(admin, maxClients));
    if (queuePool) {
      await benchJobs(queuePool).migrate();
      await installOutbox(admin.db);
      for (const ddl of JOBS_DDL) await admin.query(ddl);
      scenarios.push(jobsSignupScenario(admin, queuePool));
    }
    const results: ScenarioResult[] = [];
    for (const scenario of scenarios)
      results.push(await runPoints(scenario, driver, database.url, options));
    const queue = queuePool ? { pool: queuePool } : { serverUrl: queueServer.url };
    const report: DatabaseReport = {
      kind: server.kind,
      driver,
      server: server.server,
      url: redactUrl(server.url),
      durability: durability.text,
      mode: options.mode,
      config: {
        runs: options.runs,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        clients: options.clients,
      },
      machine: { cpus: cpus().length, node: process.versions.node },
      startedAt,
      finishedAt: '',
      scenarios: results,
      jobsLatency: want('jobs') ? await measureJobsLatency(database.url, queue, options) : [],
      targets: [],
    };
    report.finishedAt = new Date().toISOString();
    report.targets = await evaluateTargets(report, durability.durable);
    return report;
  } finally {
    const report = (error: unknown) =>
      process.stderr.write(`cleanup: ${(error as Error).message}\n`);
    await queuePool?.end().catch(report);
    await admin.close().catch(report);
    await database.drop().catch(report);
  }
}

/**
 * A scenario at every client count, on fresh connections per point, closed before the next:
 * at most `max(clients)` + a few admin and queue connections are open at any time.
 */
async function runPoints(
  scenario: Scenario,
  driver: DriverName,
  url: string,
  options: BenchOptions,
) {
  const { id, group, keys } = scenario;
  const title = `${scenario.title} (${driver})`;
  const result: ScenarioResult = { id, group, title, description: keys.description, points: [] };
  for (const clients of options.clients) {
    let opened: Awaited<ReturnType<typeof openClients>> = [];
    try {
      opened = await openClients(driver, url, clients, scenario.pooled);
      result.points.push(await runScenario(scenario, opened, options));
    } catch (error) {
      const failure = (error as Error).message.split('\n')[0] ?? String(error);
      process.stderr.write(`!! ${scenario.id} @ ${clients} clients failed: ${failure}\n`);
      result.points.push({ clients, contenders: [], failure });
    } finally {
      await closeClients(opened);
    }
  }
  return result;
}

/** The durability settings in force: read and printed, never relaxed. */
async function readDurability(admin: Admin): Promise<{ text: string; durable: boolean }> {
  const [row] = await admin.query<Record<string, string | number>>(
    admin.family === 'postgres'
      ? "select current_setting('synchronous_commit') as synchronous_commit, current_setting('fsync') as fsync, current_setting('wal_sync_method') as wal_sync_method"
      : 'select @@innodb_flush_log_at_trx_commit as innodb_flush_log_at_trx_commit, @@log_bin as log_bin, @@sync_binlog as sync_binlog',
  );
  const settings = Object.entries(row ?? {});
  const durable =
    admin.family === 'postgres'
      ? row?.synchronous_commit !== 'off' && row?.fsync === 'on'
      : Number(row?.innodb_flush_log_at_trx_commit) === 1;
  return { text: settings.map(([name, value]) => `${name} = ${value}`).join(', '), durable };
}
