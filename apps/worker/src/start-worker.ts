import { EventEmitter } from 'node:events';
import { createJobs, installOutbox, type Jobs, type RelayLoop } from '@racefree/jobs';
import { atomic } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { run, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import type { WorkerConfig } from './config.js';
import { connectWithRetry, migrate, reconnectBackoffSeconds, redactUrl } from '@racefree/bookstore';
import { graphileLogger, type Log } from './log.js';
import { WORKER_TABLES_SQL, workerHandlers, workerTasks } from './worker-tasks.js';
import { openWorkerPresence } from './worker-presence.js';
import { startOrphanedLockSweeper } from './release-orphaned-locks.js';

/** A running worker. */
export interface RunningWorker {
  jobs: Jobs<typeof workerTasks>;
  /** Stops taking jobs, lets in-flight jobs and the relay's current batch finish, closes pools. */
  stop(): Promise<void>;
  /** Rejects if graphile-worker stops on its own (a fatal error). */
  readonly done: Promise<void>;
}

/**
 * Starts graphile-worker on the queue database with this worker's tasks, and — when the
 * application database is MySQL/MariaDB — the outbox relay. Waits for unreachable servers
 * (bounded, one log line per attempt); refuses bad credentials at once.
 */
export async function startWorker(config: WorkerConfig, log: Log): Promise<RunningWorker> {
  // graphile-worker: one connection per running job, plus LISTEN and the job fetches.
  const pgPool = new pg.Pool({ connectionString: config.queueUrl, max: config.concurrency + 2 });
  pgPool.on('error', (error) => log('warning', 'idle queue connection failed', { error }));
  pgPool.on('connect', (client) =>
    client.on('error', (error) => log('warning', 'queue connection failed', { error })),
  );
  const closers: (() => Promise<unknown>)[] = [() => pgPool.end()];
  const closeAll = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    await connectWithRetry(
      'the queue database',
      config.queueUrl,
      async () => {
        const client = await pgPool.connect();
        client.release();
      },
      {
        attempts: config.connectAttempts,
        onRetry: (line, details) => log('warning', line, details),
      },
    );
    let mysqlPool: mysql.Pool | undefined;
    if (config.databaseKind === 'mysql') {
      const pool = mysql.createPool({
        uri: config.databaseUrl,
        connectionLimit: config.concurrency + 2,
      });
      mysqlPool = pool;
      closers.push(() => pool.end());
      await connectWithRetry(
        'the MySQL database',
        config.databaseUrl,
        async () => {
          await pool.query('select 1');
        },
        {
          attempts: config.connectAttempts,
          onRetry: (line, details) => log('warning', line, details),
        },
      );
    }

    // The handlers' own connections (postgres.js, as the application uses), one per job slot.
    const client = postgres(config.queueUrl, {
      // At least two: the bookstore's migrate() holds its lock on one connection while it
      // migrates on another — with WORKER_CONCURRENCY=1 a pool of one hung start-up forever.
      max: Math.max(2, config.concurrency),
      onnotice: () => {},
      // postgres.js' default reconnect pause grows to 20 s (shared by the pool) during an
      // outage; capped at 1 s, jobs resume as soon as the database is back.
      backoff: reconnectBackoffSeconds,
    });
    closers.push(() => client.end({ timeout: 5 }));
    const db = drizzlePostgres({ client });
    const jobs = createJobs({ tasks: workerTasks, pool: pgPool, db });
    await jobs.migrate();
    // Several workers may start at once on an empty database, and two concurrent `CREATE
    // TABLE IF NOT EXISTS` can still collide (a unique violation in pg_type): one worker at a
    // time creates the tables, under a transaction-scoped advisory lock.
    await atomic(db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext('racefree.worker.tables'))`);
      for (const statement of WORKER_TABLES_SQL) await tx.execute(sql.raw(statement));
    });
    const mysqlDb = mysqlPool ? drizzleMysql({ client: mysqlPool }) : undefined;
    // The bookstore's tables: migrated here too (under a server-side lock), so jobs never wait
    // for the web app to have started first.
    const bookstoreDb = mysqlDb ?? db;
    await migrate(bookstoreDb);

    // This worker's presence (see worker-presence.ts): lets `unlock-dead-workers` tell its
    // locked jobs from those of a worker that died. Announced as soon as graphile-worker
    // creates the pool, whose id is what it writes to `locked_by`.
    const presence = await openWorkerPresence(config.queueUrl, log);
    closers.push(() => presence.close());
    const events: WorkerEvents = new EventEmitter();
    let workerId: string | undefined;
    let announced: Promise<void> | undefined;
    events.on('pool:create', ({ workerPool }) => {
      workerId = workerPool.id;
      announced = presence.announce(workerPool.id);
      // Awaited right after run() returns; this only keeps an early failure from counting as
      // an unhandled rejection meanwhile.
      announced.catch(() => undefined);
    });

    const runner = await run({
      pgPool,
      events,
      taskList: jobs.taskList(workerHandlers(bookstoreDb, log), { atomic: db }),
      concurrency: config.concurrency,
      pollInterval: config.pollIntervalMs,
      noHandleSignals: true,
      // No cron schedule (and no warning about a missing crontab file).
      parsedCronItems: [],
      logger: graphileLogger(log),
    });

    try {
      if (announced === undefined) throw new Error('graphile-worker created no worker pool');
      await announced;
    } catch (error) {
      await runner.stop();
      throw error;
    }
    const sweeper = startOrphanedLockSweeper({
      pool: pgPool,
      events,
      workerId: () => workerId,
      minAgeMs: config.orphanedLockAgeMs,
      log,
    });

    let relay: RelayLoop | undefined;
    if (mysqlDb) {
      await installOutbox(mysqlDb);
      relay = jobs.startRelay(mysqlDb, {
        pollIntervalMs: config.relayPollIntervalMs,
        onRelayed: (moved) => log('info', 'relayed outbox rows into the queue', { jobs: moved }),
        onError: (error, failures) =>
          log('error', 'outbox relay pass failed; retrying', {
            error,
            consecutiveFailures: failures,
          }),
      });
    }
    log('info', 'worker started', {
      workerId,
      queue: redactUrl(config.queueUrl),
      database: config.databaseKind,
      concurrency: config.concurrency,
      tasks: Object.keys(workerTasks),
      relay: relay !== undefined,
    });

    return {
      jobs,
      done: runner.promise,
      async stop() {
        // Relay first (its batch in flight completes), then graphile-worker's graceful stop,
        // which waits for the jobs in flight; only then the pools they use.
        await relay?.stop();
        await runner.stop();
        sweeper.stop();
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
