import { atomic, type Database, onCommit } from '@racefree/transactions';
import { executeRows } from '@racefree/transactions/internal';
import { connectTo, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { EventEmitter, once } from 'node:events';
import { run, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineTasks, type Jobs } from '../src/index.js';
import { WakeUps } from '../src/wake-ups.js';
import { type Listener, listen } from './support/listen.js';
import { createQueueDatabase, type QueueDatabase, quietLogger } from './support/queue-database.js';

const tasks = defineTasks({
  welcome: z.object({ userId: z.number().int() }),
  digest: z.object({ day: z.string() }),
  fresh: z.object({ n: z.number() }),
});

const backendPid = async (tx: Database) =>
  Number((await executeRows<{ pid: number }>(tx, sql`select pg_backend_pid() as pid`))[0]?.pid);

/**
 * `enqueue` in an `atomic` block writes the job without `add_job`'s NOTIFY — a transaction that
 * notifies holds a cluster-wide lock through its commit, serializing every notifying commit —
 * and wakes the workers after the commit, from the queue's pool. These tests watch the
 * notifications the workers receive: who sent them, and how many jobs they announce.
 */
describe('waking the workers after commit', () => {
  let queue: QueueDatabase;
  let connection: TestConnection;
  let listener: Listener;
  let jobs: Jobs<typeof tasks>;
  const db = (): Database => connection.db;

  beforeAll(async () => {
    queue = await createQueueDatabase({ max: 4 });
    connection = await connectTo(queue.database, { max: 8 });
    listener = await listen(queue.database.url);
    jobs = createJobs({ tasks, pool: queue.pool, db: connection.db as never });
    // Register the tasks once through add_job, as the first job of a task always is.
    for (const name of ['welcome', 'digest'] as const)
      await queue.pool.query('select graphile_worker.add_job($1, $2::json)', [name, '{}']);
    await queue.pool.query('delete from graphile_worker._private_jobs');
  });
  afterAll(async () => {
    await listener?.close();
    await jobs?.close();
    await connection?.close();
    await queue?.close();
  });

  async function wakeUpsDuring(work: () => Promise<void>) {
    await listener.settle();
    const before = listener.received.length;
    await work();
    // The pool is the test's: close() leaves it open and only waits for the owed wake-ups.
    await jobs.close();
    await listener.settle();
    return listener.received.slice(before);
  }

  it('the transaction itself sends no NOTIFY: the wake-up comes from another session, after the commit', async () => {
    let txPid = 0;
    const wakeUps = await wakeUpsDuring(async () => {
      const result = await atomic(db(), async (tx) => {
        txPid = await backendPid(tx);
        return jobs.enqueue(tx, 'welcome', { userId: 1 });
      });
      expect(result.queued).toBe('in-transaction');
    });
    expect(txPid).toBeGreaterThan(0);
    expect(wakeUps).toEqual([{ processId: expect.any(Number), count: 1 }]);
    expect(wakeUps[0]?.processId).not.toBe(txPid);
    expect((await queue.jobs('welcome')).map((job) => job.payload)).toEqual([{ userId: 1 }]);
  });

  it('announces exactly the committed jobs: rolled-back blocks and savepoints wake nobody', async () => {
    await queue.pool.query('delete from graphile_worker._private_jobs');
    const wakeUps = await wakeUpsDuring(async () => {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          atomic(db(), async (tx) => {
            await jobs.enqueue(tx, 'welcome', { userId: i });
            // A job enqueued in a savepoint that rolls back is gone, and so is its wake-up.
            await atomic(tx, async (sp) => {
              await jobs.enqueue(sp, 'welcome', { userId: 1000 + i });
              throw new Error('savepoint rolled back');
            }).catch(() => undefined);
            if (i % 3 === 0) throw new Error('rolled back');
          }).catch(() => undefined),
        ),
      );
    });
    const committed = (await queue.jobs('welcome')).map((job) => job.payload.userId as number);
    expect(committed.sort((a, b) => a - b)).toEqual(
      Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 3 !== 0),
    );
    expect(wakeUps.reduce((sum, w) => sum + w.count, 0)).toBe(40);
  });

  it('coalesces: wake-ups that pile up behind a busy queue connection go out as one NOTIFY', async () => {
    const onePool = new pg.Pool({ connectionString: queue.database.url, max: 1 });
    const narrow = createJobs({ tasks, pool: onePool, db: connection.db as never });
    // Prime the identity probe, then hold the pool's only connection: the first wake-up waits
    // for it, and every commit meanwhile adds to the next one.
    await atomic(db(), (tx) => narrow.enqueue(tx, 'digest', { day: 'prime' }));
    await narrow.close();
    await listener.settle();
    const before = listener.received.length;
    const held = await onePool.connect();
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          atomic(db(), (tx) => narrow.enqueue(tx, 'digest', { day: `d${i}` })),
        ),
      );
    } finally {
      held.release();
    }
    await narrow.close();
    await listener.settle();
    expect(listener.received.slice(before).map((w) => w.count)).toEqual([1, 19]);
    await onePool.end();
  });

  it('idle(bound) stops waiting for a wake-up that cannot be sent yet; add(0) owes nothing', async () => {
    const onePool = new pg.Pool({ connectionString: queue.database.url, max: 1 });
    const wakeUps = new WakeUps(onePool);
    const errors: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => errors.push(args.join(' '));
    try {
      wakeUps.add(0);
      await wakeUps.idle(); // nothing owed: settles at once (and the sender is not stuck)
      await listener.settle();
      const before = listener.received.length;
      const held = await onePool.connect(); // the NOTIFY cannot get a connection
      wakeUps.add(2);
      await wakeUps.idle(100);
      expect(errors).toEqual([expect.stringMatching(/gave up waiting 100 ms/)]);
      held.release();
      await wakeUps.idle(); // it is still owed, and goes out once the connection is free
      await listener.settle();
      expect(listener.received.slice(before).map((w) => w.count)).toEqual([2]);
    } finally {
      console.error = original;
      await onePool.end();
    }
  });

  it('keeps add_job where its rules are needed: a job key, a task never seen, a raw transaction', async () => {
    const txPids: number[] = [];
    const wakeUps = await wakeUpsDuring(async () => {
      await atomic(db(), async (tx) => {
        txPids.push(await backendPid(tx));
        await jobs.enqueue(tx, 'digest', { day: 'keyed' }, { jobKey: 'weekly' });
      });
      await atomic(db(), async (tx) => {
        txPids.push(await backendPid(tx));
        await jobs.enqueue(tx, 'fresh', { n: 1 }); // 'fresh' has no task row yet
      });
      await connection.db.transaction(async (tx) => {
        txPids.push(await backendPid(tx as Database));
        await jobs.enqueue(tx as Database, 'digest', { day: 'raw' });
      });
    });
    // add_job notifies from the transaction's own backend, at its commit.
    expect(wakeUps.map((w) => w.processId)).toEqual(txPids);
    expect((await queue.jobs('fresh')).map((job) => job.payload)).toEqual([{ n: 1 }]);
    // Once registered, the task takes the quiet insert like the others.
    let txPid = 0;
    const next = await wakeUpsDuring(async () => {
      await atomic(db(), async (tx) => {
        txPid = await backendPid(tx);
        await jobs.enqueue(tx, 'fresh', { n: 2 });
      });
    });
    expect(next).toHaveLength(1);
    expect(next[0]?.processId).not.toBe(txPid);
  });

  it('writes the row add_job would write: every option, defaults included', async () => {
    await queue.pool.query(
      `select graphile_worker.add_job('digest', '{}'::json, queue_name => 'digests')`,
    );
    await queue.pool.query('delete from graphile_worker._private_jobs');
    const runAt = new Date(Date.now() + 3_600_000);
    const specs = [
      { day: 'plain', options: {} },
      { day: 'all', options: { runAt, queueName: 'digests', priority: -3, maxAttempts: 7 } },
      { day: 'unknown-queue', options: { queueName: 'never-seen', delayMs: 60_000 } },
    ];
    let txPid = 0;
    const wakeUps = await wakeUpsDuring(async () => {
      await atomic(db(), async (tx) => {
        txPid = await backendPid(tx);
        for (const { day, options } of specs) await jobs.enqueue(tx, 'digest', { day }, options);
      });
    });
    // Only the job on a queue never seen went through add_job (its NOTIFY, from the
    // transaction, at commit); the two others were written quietly and announced after it.
    // (The first wake-up goes out at once, the second after it: one or two NOTIFYs.)
    const [fromAddJob, ...quiet] = wakeUps;
    expect(fromAddJob).toEqual({ processId: txPid, count: 1 });
    expect(quiet.reduce((sum, w) => sum + w.count, 0)).toBe(2);
    for (const wakeUp of quiet) expect(wakeUp.processId).not.toBe(txPid);
    // The same specs through graphile-worker's own add_job, on the side.
    await atomic(db(), async (tx) => {
      for (const { day, options } of specs)
        await jobs.enqueue(tx, 'digest', { day: `${day}:reference` }, { ...options, jobKey: day });
    });
    const { rows } = await queue.pool.query<Record<string, unknown>>(
      `select j.payload->>'day' as day, q.queue_name, j.priority, j.max_attempts, j.attempts,
              j.run_at, j.flags, j.revision, j.locked_at, j.last_error, j.is_available
         from graphile_worker._private_jobs j
         left join graphile_worker._private_job_queues q on q.id = j.job_queue_id
        order by j.id`,
    );
    const byDay = new Map(rows.map((row) => [row.day as string, row]));
    for (const { day } of specs) {
      const ours = { ...byDay.get(day) };
      const reference = { ...byDay.get(`${day}:reference`) };
      expect(ours.day).toBe(day);
      // Run times come from each transaction's clock (delayMs: from each call): close, not equal.
      const gap = (ours.run_at as Date).getTime() - (reference.run_at as Date).getTime();
      expect(Math.abs(gap)).toBeLessThan(5_000);
      for (const row of [ours, reference]) {
        delete row.day;
        delete row.run_at;
      }
      expect(ours).toEqual(reference);
    }
    expect(byDay.get('all')).toMatchObject({
      queue_name: 'digests',
      priority: -3,
      max_attempts: 7,
    });
    expect(byDay.get('unknown-queue')?.queue_name).toBe('never-seen');
  });

  it("a failing onCommit hook of the caller's neither discards nor delays the wake-up", async () => {
    await queue.pool.query('delete from graphile_worker._private_jobs');
    const wakeUps = await wakeUpsDuring(async () => {
      await expect(
        atomic(db(), async (tx) => {
          // Registered before the enqueue: hooks run in order, and a failing one discards
          // the hooks after it. The wake-up is a notice: it runs before every hook.
          await onCommit(() => {
            throw new Error('mailer down');
          });
          await jobs.enqueue(tx, 'welcome', { userId: 7 });
        }),
      ).rejects.toThrow('mailer down');
    });
    expect(wakeUps.map((w) => w.count)).toEqual([1]);
    expect((await queue.jobs('welcome')).map((job) => job.payload)).toEqual([{ userId: 7 }]);
  });

  /**
   * Runs `fn` with a `jobs` on a pool of its own (its schema probe starts afresh) and a way to
   * enqueue one job through it in an atomic block, answering how the job was announced:
   * `add_job`'s NOTIFY from the transaction's own backend, or a quiet insert's wake-up.
   */
  async function withFreshJobs(
    fn: (enqueueOne: () => Promise<'add_job' | 'quiet'>) => Promise<void>,
  ) {
    const pool = new pg.Pool({ connectionString: queue.database.url, max: 2 });
    const fresh = createJobs({ tasks, pool, db: connection.db as never });
    try {
      await fn(async () => {
        let txPid = 0;
        const wakeUps = await wakeUpsDuring(async () => {
          await atomic(db(), async (tx) => {
            txPid = await backendPid(tx);
            await fresh.enqueue(tx, 'welcome', { userId: 8 });
          });
          await fresh.close();
        });
        expect(wakeUps.map((w) => w.count)).toEqual([1]);
        return wakeUps[0]?.processId === txPid ? 'add_job' : 'quiet';
      });
    } finally {
      await pool.end();
    }
  }

  it('a queue schema migrated past graphile-worker 0.17.3 gets add_job (and its NOTIFY), with a warning', async () => {
    const warnings: unknown[] = [];
    const original = console.warn;
    console.warn = (...args: unknown[]) => warnings.push(args.join(' '));
    // A newer worker elsewhere ran one more migration: its add_jobs may do more than ours.
    await queue.pool.query('insert into graphile_worker.migrations (id) values (20)');
    try {
      await withFreshJobs(async (enqueueOne) => {
        expect(await enqueueOne()).toBe('add_job');
      });
      expect(warnings).toEqual([expect.stringMatching(/at migration 20, not 19/)]);
    } finally {
      console.warn = original;
      await queue.pool.query('delete from graphile_worker.migrations where id = 20');
    }
  });

  it('a schema not yet at 0.17.3 (migrate() still to run) is asked again: once migrated, jobs are quiet', async () => {
    await withFreshJobs(async (enqueueOne) => {
      const { rows } = await queue.pool.query(
        'delete from graphile_worker.migrations where id = 19 returning id, ts, breaking',
      );
      try {
        expect(await enqueueOne()).toBe('add_job');
      } finally {
        const [saved] = rows as { id: number; ts: Date; breaking: boolean }[];
        await queue.pool.query(
          'insert into graphile_worker.migrations (id, ts, breaking) values ($1, $2, $3)',
          [saved?.id, saved?.ts, saved?.breaking],
        );
      }
      expect(await enqueueOne()).toBe('quiet');
    });
  });

  it('an idle worker that polls once an hour starts the job at once: the wake-up reaches it', async () => {
    let started: (userId: number) => void = () => {};
    const startedJob = new Promise<number>((resolve) => {
      started = resolve;
    });
    // Subscribed before the worker starts, so neither moment can be missed.
    const events = new EventEmitter() as WorkerEvents;
    const idle = Promise.all([
      once(events, 'pool:listen:success'),
      once(events, 'worker:getJob:empty'),
    ]);
    await queue.pool.query('delete from graphile_worker._private_jobs');
    const runner = await run({
      events,
      pgPool: queue.pool,
      concurrency: 1,
      pollInterval: 3_600_000,
      noHandleSignals: true,
      logger: quietLogger,
      taskList: jobs.taskList({
        welcome: async ({ userId }) => {
          started(userId);
        },
        digest: async () => {},
        fresh: async () => {},
      }),
    });
    try {
      // The worker listens, and its first poll (at start-up) found nothing: it is idle.
      const [[{ client }]] = await idle;
      // The event fires just before the worker sends LISTEN on that client; a client runs its
      // queries in order, so once this one answers the LISTEN has taken effect.
      await client.query('select 1');
      await atomic(db(), (tx) => jobs.enqueue(tx, 'welcome', { userId: 42 }));
      expect(await startedJob).toBe(42);
    } finally {
      await runner.stop();
    }
  }, 30_000);
});
