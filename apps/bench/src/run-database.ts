import { cpus } from 'node:os';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseReport, JobsLatencyResult, ScenarioResult } from './bench-report.js';
import { createBenchDatabase } from './create-bench-database.js';
import { evaluateTargets } from './evaluate-targets.js';
import { explainMisses } from './explain-misses.js';
import { type IsolatedCost, measureIsolatedCost } from './measure-isolated-cost.js';
import type { OptionalModules } from './load-optional-modules.js';
import {
  createBenchJobs,
  measureJobsLatency,
  mysqlLatencyModes,
  postgresLatencyModes,
} from './measure-jobs-latency.js';
import { openAdmin } from './open-admin.js';
import {
  type BenchClient,
  closeClients,
  type MysqlClient,
  openMysqlClients,
  openPostgresClients,
  type PostgresClient,
} from './open-clients.js';
import type { BenchOptions } from './parse-options.js';
import { prepareBookstore } from './prepare-bookstore.js';
import { prepareItems } from './prepare-items.js';
import { readDurability } from './read-durability.js';
import { redactUrl } from '@racefree/testkit/redact-url';
import { runScenario } from './run-scenario.js';
import type { Scenario } from './scenario.js';
import { getOrCreateScenarios } from './scenarios/get-or-create-scenarios.js';
import { itemScenarios } from './scenarios/item-scenarios.js';
import { jobsThroughputScenario } from './scenarios/jobs-throughput-scenario.js';
import { purchaseScenario } from './scenarios/purchase-scenario.js';
import { selectForUpdateOrCreateScenarios } from './scenarios/select-for-update-or-create-scenarios.js';
import { updateOrCreateScenarios } from './scenarios/update-or-create-scenarios.js';
import { SIGNUPS_DDL } from './signup-table.js';

/** The key-based scenario groups on the items tables, in the order they run. */
const ITEM_GROUPS = [
  getOrCreateScenarios,
  selectForUpdateOrCreateScenarios,
  updateOrCreateScenarios,
] as const;

/** One database server to run every scenario on. */
export interface DatabaseTarget {
  family: 'postgres' | 'mysql';
  kind: 'postgres' | 'mysql' | 'mariadb';
  /** e.g. `PostgreSQL 15.20`. */
  server: string;
  /** Superuser URL: a fresh database is created from it and dropped afterwards. */
  serverUrl: string;
  /** PostgreSQL server for the queue of the MySQL outbox latency (a fresh database there). */
  queueServerUrl?: string;
}

/** How often the outbox relay polls MySQL during the latency measurement. */
const RELAY_POLL_MS = 10;

/**
 * Runs every selected scenario on one database server, in a database created for the run and
 * dropped after it, and returns the report (targets evaluated).
 */
export async function runDatabase(
  target: DatabaseTarget,
  options: BenchOptions,
  modules: OptionalModules,
): Promise<DatabaseReport> {
  const startedAt = new Date().toISOString();
  const database = await createBenchDatabase(target.family, target.serverUrl);
  process.stderr.write(`\n${target.server}: bench database ${database.name}\n`);
  const cleanups: (() => Promise<unknown>)[] = [() => database.drop()];
  const want = (group: string) => options.only.includes(group);
  const pending: string[] = [];
  const scenarioResults: ScenarioResult[] = [];
  const jobsLatency: JobsLatencyResult[] = [];
  let purchasePending: string | undefined;
  let jobsPending: string | undefined;
  let isolatedCost: IsolatedCost | undefined;
  try {
    const admin = await openAdmin(target.family, database.url);
    cleanups.unshift(() => admin.close());
    await prepareItems(admin);
    const durability = await readDurability(admin);

    if (want('purchase') && modules.bookstore.pending) {
      purchasePending = modules.bookstore.pending;
      pending.push(`purchase scenario: ${purchasePending}`);
    }
    if (want('jobs') && modules.jobs.pending) {
      jobsPending = modules.jobs.pending;
      pending.push(`jobs scenarios: ${jobsPending}`);
    }

    if (target.family === 'postgres') {
      // First, before any scenario opens a transaction: the async-context hooks an `atomic`
      // switches on would tax every promise of both sides from then on.
      if (want('get-or-create'))
        isolatedCost = await measureIsolatedCost({ samples: options.isolatedSamples });
      const scenarios: Scenario<PostgresClient>[] = [];
      for (const group of ITEM_GROUPS)
        if (want(group.name)) scenarios.push(...itemScenarios('postgres', admin, group));
      if (want('purchase') && modules.bookstore.module) {
        const fixture = await prepareBookstore(
          admin,
          modules.bookstore.module,
          Math.max(...options.clients),
        );
        scenarios.push(purchaseScenario('postgres', admin, modules.bookstore.module, fixture));
      }
      let queuePool: pg.Pool | undefined;
      if (want('jobs') && modules.jobs.module) {
        const pool = queuePoolFor(database.url);
        queuePool = pool;
        cleanups.unshift(() => pool.end());
        await createBenchJobs(modules.jobs.module, pool).migrate();
        await admin.query(SIGNUPS_DDL);
        scenarios.push(jobsThroughputScenario(admin, modules.jobs.module, pool));
      }
      scenarioResults.push(
        ...(await runAll(scenarios, options, (n, spare) =>
          openPostgresClients(database.url, n, { spareConnection: spare }),
        )),
      );
      if (queuePool && modules.jobs.module) {
        const clients = await openPostgresClients(database.url, 1);
        const client = clients[0] as PostgresClient;
        try {
          process.stderr.write('jobs latency: commit → task start …\n');
          jobsLatency.push(
            ...(await measureJobsLatency({
              jobsModule: modules.jobs.module,
              queuePool,
              warmup: options.latencyWarmup,
              samples: options.latencySamples,
              modes: postgresLatencyModes(client.db, client.sql),
            })),
          );
        } finally {
          await closeClients(clients);
        }
      }
    } else {
      const scenarios: Scenario<MysqlClient>[] = [];
      for (const group of ITEM_GROUPS)
        if (want(group.name)) scenarios.push(...itemScenarios('mysql', admin, group));
      if (want('purchase') && modules.bookstore.module) {
        const fixture = await prepareBookstore(
          admin,
          modules.bookstore.module,
          Math.max(...options.clients),
        );
        scenarios.push(purchaseScenario('mysql', admin, modules.bookstore.module, fixture));
      }
      scenarioResults.push(
        ...(await runAll(scenarios, options, (n) => openMysqlClients(database.url, n))),
      );
      if (want('jobs') && modules.jobs.module) {
        if (target.queueServerUrl) {
          jobsLatency.push(
            ...(await measureOutboxLatency(
              database.url,
              target.queueServerUrl,
              modules.jobs.module,
              options,
            )),
          );
        } else {
          pending.push('jobs (MySQL outbox latency): no PostgreSQL server for the queue');
        }
      }
    }

    const report: DatabaseReport = {
      kind: target.kind,
      server: target.server,
      url: redactUrl(target.serverUrl),
      durability: durability.text,
      mode: options.mode,
      config: {
        runs: options.runs,
        warmupMs: options.warmupMs,
        durationMs: options.durationMs,
        clients: options.clients,
        heapCollectedBeforeRuns: typeof (globalThis as { gc?: unknown }).gc === 'function',
      },
      machine: { cpus: cpus().length, node: process.versions.node },
      startedAt,
      finishedAt: new Date().toISOString(),
      scenarios: scenarioResults,
      jobsLatency,
      ...(isolatedCost ? { isolatedCost } : {}),
      pending,
      targets: [],
      notes: [],
    };
    report.targets = evaluateTargets(report, {
      ...(purchasePending ? { purchasePending } : {}),
      ...(jobsPending ? { jobsPending } : {}),
      durable: durability.durable,
    });
    report.notes = explainMisses(report);
    return report;
  } finally {
    for (const cleanup of cleanups)
      await cleanup().catch((error: unknown) => {
        process.stderr.write(`cleanup failed: ${(error as Error).message}\n`);
      });
  }
}

/**
 * Every scenario at every client count, with fresh connections per point (released before the
 * next, so at most `max(clients)` + a few admin connections are open at any time).
 */
async function runAll<C extends BenchClient>(
  scenarios: readonly Scenario<C>[],
  options: BenchOptions,
  open: (count: number, spareConnection: boolean) => Promise<C[]>,
): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  for (const scenario of scenarios) {
    const result: ScenarioResult = {
      id: scenario.id,
      group: scenario.group,
      title: scenario.title,
      description: scenario.description,
      keys: scenario.keys.name,
      points: [],
    };
    for (const clients of options.clients) {
      let opened: C[] = [];
      try {
        opened = await open(clients, scenario.spareConnection === true);
        result.points.push(await runScenario(scenario, opened, options));
      } catch (error) {
        const failure = (error as Error).message.split('\n')[0] ?? String(error);
        process.stderr.write(`!! ${scenario.id} @ ${clients} clients failed: ${failure}\n`);
        result.points.push({ clients, contenders: [], failure });
      } finally {
        await closeClients(opened);
      }
    }
    results.push(result);
  }
  return results;
}

/** graphile-worker's node-postgres pool on the queue database (idle-connection errors reported, not fatal). */
function queuePoolFor(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', (error) => process.stderr.write(`queue pool: ${error.message}\n`));
  // graphile-worker warns unless checked-out clients have an error handler too.
  pool.on('connect', (client) =>
    client.on('error', (error) => process.stderr.write(`queue connection: ${error.message}\n`)),
  );
  return pool;
}

/** MySQL: enqueue into the outbox in a MySQL transaction; the relay moves it; the worker runs it. */
async function measureOutboxLatency(
  mysqlUrl: string,
  queueServerUrl: string,
  jobsModule: NonNullable<OptionalModules['jobs']['module']>,
  options: BenchOptions,
): Promise<JobsLatencyResult[]> {
  const queue = await createBenchDatabase('postgres', queueServerUrl, 'queue');
  const queuePool = queuePoolFor(queue.url);
  const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: 4 });
  const mysqlDb = drizzleMysql({ client: mysqlPool });
  try {
    const jobs = createBenchJobs(jobsModule, queuePool);
    await jobs.migrate();
    await jobsModule.installOutbox(mysqlDb);
    const relay = jobs.startRelay(mysqlDb, {
      pollIntervalMs: RELAY_POLL_MS,
      onError: (error) => process.stderr.write(`relay: ${(error as Error).message}\n`),
    });
    try {
      process.stderr.write('jobs latency (MySQL outbox → relay → worker) …\n');
      return await measureJobsLatency({
        jobsModule,
        queuePool,
        warmup: options.latencyWarmup,
        samples: options.latencySamples,
        jitterMs: RELAY_POLL_MS,
        modes: mysqlLatencyModes(mysqlDb, RELAY_POLL_MS),
      });
    } finally {
      await relay.stop();
    }
  } finally {
    await mysqlPool.end();
    await queuePool.end();
    await queue.drop();
  }
}
