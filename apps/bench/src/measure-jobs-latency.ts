import { setTimeout as sleep } from 'node:timers/promises';
import { atomic, type Database, onCommit } from '@racefree/transactions';
import { Logger, run } from 'graphile-worker';
import type pg from 'pg';
import { installOutbox } from '@racefree/jobs';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { benchJobs, queuePoolFor } from './bench-jobs.js';
import type { JobsLatencyResult } from './bench-report.js';
import { createBenchDatabase } from './create-bench-database.js';
import { summarizeLatencies } from './latency-summary.js';
import { openClients, type Raw } from './open-clients.js';
import type { BenchOptions } from './parse-options.js';

/** One way of enqueueing a sample: resolves with the moment its data committed. */
interface LatencyMode {
  mode: string;
  label: string;
  note?: string;
  enqueue(sample: number): Promise<number>;
}

/** `jobs.enqueue` in an `atomic` block; the commit stamped by an `onCommit` hook. */
function inTransaction(db: Database, jobs: ReturnType<typeof benchJobs>) {
  return async (sample: number) => {
    let committedAt = Number.NaN;
    await atomic(db, async (tx) => {
      await jobs.enqueue(tx, 'bench_latency', { sample });
      await onCommit(() => {
        committedAt = performance.now();
      });
    });
    return committedAt;
  };
}

/** PostgreSQL: in the transaction (`add_job`, then the outbox), after commit, and raw. */
function postgresLatencyModes(db: Database, raw: Raw, queuePool: pg.Pool): LatencyMode[] {
  const jobs = benchJobs(queuePool, { db });
  return [
    {
      mode: 'enqueue-in-transaction',
      label: 'racefree jobs.enqueue(tx, …) in atomic(), add_job delivery',
      enqueue: inTransaction(db, jobs),
    },
    {
      mode: 'enqueue-outbox',
      label: "racefree jobs.enqueue(tx, …) in atomic(), delivery: 'outbox'",
      note: 'relayed after the commit, add_jobs',
      enqueue: inTransaction(db, benchJobs(queuePool, { db, delivery: 'outbox' })),
    },
    {
      mode: 'enqueue-on-commit',
      label: 'racefree jobs.enqueueOnCommit(…) (add_job after COMMIT)',
      note: 'includes the add_job round trip after the commit',
      async enqueue(sample) {
        let committedAt = Number.NaN;
        await atomic(db, async () => {
          // Registered first, so it runs first: the stamp is the commit, not the dispatch.
          await onCommit(() => {
            committedAt = performance.now();
          });
          await jobs.enqueueOnCommit('bench_latency', { sample });
        });
        return committedAt;
      },
    },
    {
      mode: 'raw-add-job',
      label: 'raw SELECT graphile_worker.add_job(…) (autocommit)',
      async enqueue(sample) {
        await raw.query("select graphile_worker.add_job('bench_latency', ?::json)", [
          JSON.stringify({ sample }),
        ]);
        return performance.now();
      },
    },
  ];
}

/**
 * Commit → task start, like graphile-worker's own latency test: one job at a time after a
 * warm-up, an idle worker (concurrency 1) woken by LISTEN/NOTIFY; the handler stamps its
 * start. `jitterMs`: a random pause before each sample, so a poller (the MySQL relay) does not
 * phase-lock with back-to-back samples.
 */
async function sampleLatencies(
  queuePool: pg.Pool,
  modes: readonly LatencyMode[],
  options: { warmup: number; samples: number; jitterMs?: number },
): Promise<JobsLatencyResult[]> {
  const waiting = new Map<number, (at: number) => void>();
  const runner = await run({
    pgPool: queuePool,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: new Logger(() => () => {}),
    taskList: benchJobs(queuePool).taskList({
      bench_latency: async ({ sample }) => waiting.get(sample)?.(performance.now()),
      send_welcome_email: async () => {},
    }),
  });
  const results: JobsLatencyResult[] = [];
  let next = 0;
  try {
    for (const mode of modes) {
      const latencies: number[] = [];
      for (let i = 0; i < options.warmup + options.samples; i++) {
        const sample = next++;
        if (options.jitterMs) await sleep(Math.random() * options.jitterMs);
        const started = new Promise<number>((resolve) => waiting.set(sample, resolve));
        const committedAt = await mode.enqueue(sample);
        const timeout = new AbortController();
        const startedAt = await Promise.race([
          started,
          sleep(10_000, Number.NaN, { signal: timeout.signal }).catch(() => Number.NaN),
        ]);
        timeout.abort();
        waiting.delete(sample);
        if (Number.isNaN(startedAt))
          throw new Error(`${mode.label}: job ${sample} did not start within 10 s`);
        // The worker may hear of the job before the client hears its COMMIT returned.
        if (i >= options.warmup) latencies.push(Math.max(0, startedAt - committedAt));
      }
      const { mode: id, label, note } = mode;
      results.push({
        mode: id,
        label,
        latency: summarizeLatencies(latencies),
        ...(note ? { note } : {}),
      });
    }
  } finally {
    await runner.stop();
  }
  return results;
}

type LatencyOptions = Pick<BenchOptions, 'latencyWarmup' | 'latencySamples'>;
/** How often the MySQL outbox relay polls. */
const RELAY_POLL_MS = 10;

/**
 * Commit → task start of every way of enqueueing. PostgreSQL (`queue.pool`: the queue is in the
 * bench database): one client enqueues. MySQL: an outbox row in a MySQL transaction, moved by a
 * polling relay into a queue database made on `queue.serverUrl`.
 */
export async function measureJobsLatency(
  url: string,
  queue: { pool: pg.Pool } | { serverUrl: string },
  options: LatencyOptions,
): Promise<JobsLatencyResult[]> {
  const { latencyWarmup: warmup, latencySamples: samples } = options;
  if ('pool' in queue) {
    const [client] = await openClients('postgres.js', url, 1);
    if (!client) return [];
    process.stderr.write('jobs latency: commit → task start …\n');
    const modes = postgresLatencyModes(client.db, client.raw, queue.pool);
    return sampleLatencies(queue.pool, modes, { warmup, samples }).finally(() => client.close());
  }
  const queueDb = await createBenchDatabase('postgres', queue.serverUrl, 'queue');
  const queuePool = queuePoolFor(queueDb.url);
  const mysqlPool = mysql.createPool({ uri: url, connectionLimit: 4 });
  const mysqlDb = drizzleMysql({ client: mysqlPool });
  const jobs = benchJobs(queuePool);
  try {
    await jobs.migrate();
    await installOutbox(mysqlDb);
    const onError = (error: unknown) =>
      process.stderr.write(`relay: ${(error as Error).message}\n`);
    const relay = jobs.startRelay(mysqlDb, { pollIntervalMs: RELAY_POLL_MS, onError });
    process.stderr.write('jobs latency (MySQL outbox → relay → worker) …\n');
    const mode: LatencyMode = {
      mode: 'outbox-relay',
      label: 'racefree jobs.enqueue(tx, …) in a MySQL atomic() → outbox → relay → worker',
      note: `relay polls every ${RELAY_POLL_MS} ms`,
      enqueue: inTransaction(mysqlDb, jobs),
    };
    const sampling = { warmup, samples, jitterMs: RELAY_POLL_MS };
    return await sampleLatencies(queuePool, [mode], sampling).finally(() => relay.stop());
  } finally {
    await mysqlPool.end();
    await queuePool.end();
    await queueDb.drop();
  }
}
