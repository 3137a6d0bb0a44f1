import { setTimeout as sleep } from 'node:timers/promises';
import { atomic, type Database, onCommit } from '@racefree/transactions';
import { Logger, run, type Runner } from 'graphile-worker';
import type pg from 'pg';
import type postgres from 'postgres';
import { benchTasks, type JobsModule } from './bench-tasks.js';
import type { JobsLatencyResult } from './bench-report.js';
import { summarizeLatencies } from './latency-summary.js';

/** One way of enqueueing a latency sample: resolves with the moment its data committed. */
export interface LatencyMode {
  mode: string;
  label: string;
  note?: string;
  enqueue(sample: number): Promise<number>;
}

/** What the latency measurement needs. */
export interface JobsLatencyOptions {
  jobsModule: JobsModule;
  /** graphile-worker's pool on the queue database (the worker and `enqueueOnCommit` use it). */
  queuePool: pg.Pool;
  warmup: number;
  samples: number;
  /**
   * A random pause of up to this many ms before each sample. A poller (the MySQL relay) would
   * otherwise phase-lock with back-to-back samples — each enqueued just after its pass ended —
   * and every sample would wait about the same part of its interval. Default 0.
   */
  jitterMs?: number;
  /** Ways of enqueueing, given the `jobs` object built here. */
  modes(jobs: ReturnType<typeof createBenchJobs>): LatencyMode[];
}

const quietLogger = new Logger(() => () => {});

/** The `jobs` object of the latency measurement. */
export function createBenchJobs(jobsModule: JobsModule, queuePool: pg.Pool, db?: Database) {
  return jobsModule.createJobs({
    tasks: benchTasks(jobsModule),
    pool: queuePool,
    ...(db ? { db: db as never } : {}),
  });
}

/**
 * Commit → task start latency, like graphile-worker's own latency test: one job at a time,
 * after a warm-up, with an idle worker (concurrency 1) woken by LISTEN/NOTIFY. The task
 * handler stamps its start; the enqueuer stamps the commit (an `onCommit` hook, or the moment
 * an autocommit statement returned).
 */
export async function measureJobsLatency(
  options: JobsLatencyOptions,
): Promise<JobsLatencyResult[]> {
  const jobs = createBenchJobs(options.jobsModule, options.queuePool);
  const waiting = new Map<number, (at: number) => void>();
  const runner: Runner = await run({
    pgPool: options.queuePool,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quietLogger,
    taskList: jobs.taskList({
      bench_latency: async ({ sample }) => {
        waiting.get(sample)?.(performance.now());
      },
      send_welcome_email: async () => {},
    }),
  });
  const results: JobsLatencyResult[] = [];
  let next = 0;
  try {
    for (const mode of options.modes(jobs)) {
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
        // The worker may be told before the client hears its COMMIT returned: clamp at 0.
        if (i >= options.warmup) latencies.push(Math.max(0, startedAt - committedAt));
      }
      results.push({
        mode: mode.mode,
        label: mode.label,
        latency: summarizeLatencies(latencies),
        ...(mode.note ? { note: mode.note } : {}),
      });
    }
  } finally {
    await runner.stop();
  }
  return results;
}

/** The PostgreSQL ways of enqueueing: in the transaction, after commit, and raw autocommit. */
export function postgresLatencyModes(
  db: Database,
  sql: postgres.Sql,
): (jobs: ReturnType<typeof createBenchJobs>) => LatencyMode[] {
  return (jobs) => [
    {
      mode: 'enqueue-in-transaction',
      label: 'racefree jobs.enqueue(tx, …) in atomic()',
      async enqueue(sample) {
        let committedAt = Number.NaN;
        await atomic(db, async (tx) => {
          await jobs.enqueue(tx, 'bench_latency', { sample });
          await onCommit(() => {
            committedAt = performance.now();
          });
        });
        return committedAt;
      },
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
        await sql`select graphile_worker.add_job('bench_latency', ${JSON.stringify({ sample })}::json)`;
        return performance.now();
      },
    },
  ];
}

/** The MySQL way: an outbox row in the MySQL transaction, moved by the relay, then run. */
export function mysqlLatencyModes(
  mysqlDb: Database,
  relayPollMs: number,
): (jobs: ReturnType<typeof createBenchJobs>) => LatencyMode[] {
  return (jobs) => [
    {
      mode: 'outbox-relay',
      label: 'racefree jobs.enqueue(tx, …) in a MySQL atomic() → outbox → relay → worker',
      note: `relay polls every ${relayPollMs} ms`,
      async enqueue(sample) {
        let committedAt = Number.NaN;
        await atomic(mysqlDb, async (tx) => {
          await jobs.enqueue(tx, 'bench_latency', { sample });
          await onCommit(() => {
            committedAt = performance.now();
          });
        });
        return committedAt;
      },
    },
  ];
}
