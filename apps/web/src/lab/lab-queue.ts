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
   * Runs `fn` while the lab's worker runs: graphile-worker is started for the lab's tasks only
   * (it fetches only the tasks in its task list, so the worker app keeps the welcome emails),
   * one job at a time — jobs run in the order they became visible, which is what makes the
   * sentinel of `drainVisible` meaningful — and stopped afterwards, so nothing of the lab runs
   * in the web process between runs.
   */
  withWorker<T>(fn: () => Promise<T>): Promise<T>;
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
 * The lab's queue on the queue database, with a small node-postgres pool of its own (no
 * connection is opened until a run needs one). `db` is where the sign-ups live (the
 * bookstore's database).
 */
export function startLabQueue(options: {
  connectionString: string;
  db: Database;
  /** The Drizzle database on the queue's database, when the data lives there too. */
  queueDb?: AnyPgDatabase;
}): LabQueue {
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
  let ready: Promise<WorkerUtils> | undefined;
  // graphile-worker's schema, once (the web's sign-up service migrates it too), and its utils.
  const utils = () => {
    ready ??= jobs
      .migrate()
      .then(() => makeWorkerUtils({ pgPool: pool }))
      .catch((error: unknown) => {
        ready = undefined;
        throw error;
      });
    return ready;
  };
  const taskList = jobs.taskList({
    lab_find_sign_up: async ({ runId, id }) => {
      const rows = await queryRows(options.db, sql`select id from lab_sign_ups where id = ${id}`);
      watches.get(runId)?.(id, rows.length > 0);
    },
    lab_sentinel: ({ token }) => {
      sentinels.get(token)?.();
    },
  });

  return {
    jobs,
    async withWorker(fn) {
      await utils();
      const runner: Runner = await run({
        pgPool: pool,
        taskList,
        concurrency: 1,
        noHandleSignals: true,
        parsedCronItems: [],
        logger: new Logger(() => (level, message) => {
          if (level === 'error') console.error(`[lab worker] ${message}`);
        }),
      });
      try {
        return await fn();
      } finally {
        await runner.stop();
      }
    },
    async addJobElsewhere(payload) {
      await (await utils()).addJob('lab_find_sign_up', payload);
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
        await (await utils()).addJob('lab_sentinel', { token }, { priority: 1 });
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
            let timer: NodeJS.Timeout | undefined;
            await new Promise<void>((resolve) => {
              wake = resolve;
              timer = setTimeout(resolve, deadline - Date.now());
            });
            clearTimeout(timer);
          }
          return new Map(seen);
        },
        stop: () => watches.delete(runId),
      };
    },
    async close() {
      const opened = await ready?.catch(() => undefined);
      await opened?.release();
      await pool.end();
    },
  };
}
