import { randomUUID } from 'node:crypto';
import { queryRows } from '@racefree/bookstore';
import { createJobs, defineTasks, type Jobs } from '@racefree/jobs';
import type { AnyPgDatabase, Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import pg from 'pg';
import { z } from 'zod';

/**
 * The race lab's tasks. `lab_find_sign_up` looks its sign-up row up, as a welcome-email task
 * would look its customer up; `lab_sentinel` marks the point by which the lab's worker has
 * run every job it could see.
 */
export const labTasks = defineTasks({
  lab_find_sign_up: z.object({ runId: z.string().min(1).max(40), id: z.number().int().positive() }),
  lab_sentinel: z.object({ token: z.uuid() }),
});

/** How long the lab waits for its worker to reach a sentinel before the run fails. */
const SENTINEL_WAIT_MS = 30_000;

/** What the lab's worker saw when it ran a run's jobs: sign-up id → found it. */
export interface RunWatch {
  /** Resolves once `count` jobs of the run have run, or `timeoutMs` passed: what ran by then. */
  until(count: number, timeoutMs: number): Promise<Map<number, boolean>>;
  stop(): void;
}

/** The race lab's own slice of the job queue: typed jobs, a worker for its tasks, and probes. */
export interface LabQueue {
  jobs: Jobs<typeof labTasks>;
  /**
   * What the article's buggy code does: adds the job through graphile-worker's `WorkerUtils`,
   * on its own pooled connection — committed at once, whatever transaction the caller has open.
   */
  addJobElsewhere(payload: { runId: string; id: number }): Promise<void>;
  /** Resolves once the lab's worker has run every job visible now (a lower-priority sentinel). */
  drainVisible(): Promise<void>;
  /** Starts recording what the worker finds for a run's jobs. */
  watch(runId: string): RunWatch;
  close(): Promise<void>;
}

/**
 * Starts the lab's queue on the queue database: a small node-postgres pool of its own, and a
 * graphile-worker runner for the lab's tasks only (graphile-worker fetches only the tasks in
 * its task list, so the worker app keeps the welcome emails). One job at a time: jobs run in
 * the order they became visible, which is what makes the sentinel meaningful. `db` is where
 * the sign-ups live (the bookstore's database).
 */
export async function startLabQueue(options: {
  connectionString: string;
  db: Database;
  /** The Drizzle database on the queue's database, when the data lives there too. */
  queueDb?: AnyPgDatabase;
}): Promise<LabQueue> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: 4 });
  pool.on('error', (error) => console.error('[lab] idle queue connection failed:', error.message));
  pool.on('connect', (client) =>
    client.on('error', (error) => console.error('[lab] queue connection failed:', error.message)),
  );
  const jobs = createJobs({
    tasks: labTasks,
    pool,
    ...(options.queueDb ? { db: options.queueDb } : {}),
  });
  const watches = new Map<string, (id: number, found: boolean) => void>();
  const sentinels = new Map<string, () => void>();
  let utils: WorkerUtils | undefined;
  let runner: Runner | undefined;
  try {
    await jobs.migrate();
    utils = await makeWorkerUtils({ pgPool: pool });
    runner = await run({
      pgPool: pool,
      taskList: jobs.taskList({
        lab_find_sign_up: async ({ runId, id }) => {
          const rows = await queryRows(
            options.db,
            sql`select id from lab_sign_ups where id = ${id}`,
          );
          watches.get(runId)?.(id, rows.length > 0);
        },
        lab_sentinel: ({ token }) => {
          sentinels.get(token)?.();
        },
      }),
      concurrency: 1,
      noHandleSignals: true,
      parsedCronItems: [],
      logger: new Logger(() => (level, message) => {
        if (level === 'error') console.error(`[lab worker] ${message}`);
      }),
    });
  } catch (error) {
    await Promise.resolve(runner?.stop()).catch(() => undefined);
    await Promise.resolve(utils?.release()).catch(() => undefined);
    await pool.end().catch(() => undefined);
    throw error;
  }
  const started = { utils, runner };

  return {
    jobs,
    async addJobElsewhere(payload) {
      await started.utils.addJob('lab_find_sign_up', payload);
    },
    async drainVisible() {
      const token = randomUUID();
      let timer: NodeJS.Timeout | undefined;
      try {
        const reached = new Promise<void>((resolve, reject) => {
          sentinels.set(token, resolve);
          timer = setTimeout(
            () =>
              reject(
                new Error(
                  `the lab's worker did not run its jobs within ${SENTINEL_WAIT_MS / 1000} s`,
                ),
              ),
            SENTINEL_WAIT_MS,
          );
        });
        // Priority 1 runs after every visible job of the default priority 0.
        await started.utils.addJob('lab_sentinel', { token }, { priority: 1 });
        await reached;
      } finally {
        clearTimeout(timer);
        sentinels.delete(token);
      }
    },
    watch(runId) {
      const seen = new Map<number, boolean>();
      let wake: (() => void) | undefined;
      watches.set(runId, (id, found) => {
        seen.set(id, found);
        wake?.();
      });
      return {
        async until(count, timeoutMs) {
          const deadline = Date.now() + timeoutMs;
          while (seen.size < count && Date.now() < deadline) {
            await new Promise<void>((resolve) => {
              wake = resolve;
              setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
            });
          }
          return new Map(seen);
        },
        stop: () => watches.delete(runId),
      };
    },
    async close() {
      await started.runner.stop();
      await started.utils.release();
      await pool.end();
    },
  };
}
