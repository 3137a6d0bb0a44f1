import { setTimeout as sleep } from 'node:timers/promises';
import { atomic, type Database } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { connectTo, describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { run, type Runner } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineTasks, installOutbox, type Jobs } from '../src/index.js';
import { createQueueDatabase, type QueueDatabase, quietLogger } from './support/queue-database.js';

const tasks = defineTasks({ welcome: z.object({ userId: z.number().int() }) });

const JOBS_OURS = 200;
const JOBS_NAIVE = 50;
const CREATORS = 8;

/**
 * The "DoesNotExist" race of the Django/Celery article, for real: request handlers insert a
 * user and enqueue "send welcome email" in a transaction that takes a few more milliseconds to
 * commit; an idle worker (LISTEN/NOTIFY: it wakes at once) reads the user. The naive enqueue —
 * add_job on another connection, like Celery's `.delay()` — is the control: its worker misses
 * users. With `jobs.enqueue(tx, …)` it never can, whichever delivery carries the job and
 * whichever driver the application's transactions run on.
 */
describeDialects(
  'the worker always sees the committed row (the DoesNotExist race)',
  (t) => {
    let queue: QueueDatabase;
    let connection: TestConnection;
    let naivePool: pg.Pool;
    let jobs: Jobs<typeof tasks>;
    let viaOutbox: Jobs<typeof tasks>;
    let runner: Runner;
    /** What the worker found for each user id, one entry per execution. */
    const seen = new Map<number, ('found' | 'missing')[]>();
    const db = (): Database => connection.db;

    beforeAll(async () => {
      // Connections: worker pool 8 (6 jobs + LISTEN + spare), creators 8, naive enqueue 2.
      queue = await createQueueDatabase({ max: 8 });
      connection = await connectTo(queue.database, { max: CREATORS, driver: t.driver });
      naivePool = new pg.Pool({ connectionString: queue.database.url, max: 2 });
      jobs = createJobs({ tasks, pool: queue.pool, db: connection.db as never });
      viaOutbox = createJobs({
        tasks,
        pool: queue.pool,
        db: connection.db as never,
        delivery: 'outbox',
      });
      await installOutbox(connection.db);
      await connection.query('create table users (id int primary key, email text not null)');
      runner = await run({
        pgPool: queue.pool,
        concurrency: 6,
        pollInterval: 200,
        noHandleSignals: true,
        logger: quietLogger,
        taskList: jobs.taskList({
          welcome: async ({ userId }, helpers) => {
            // The worker's own connection, as a separate process would have.
            const { rows } = await helpers.query('select 1 from users where id = $1', [userId]);
            seen.set(userId, [
              ...(seen.get(userId) ?? []),
              rows.length === 1 ? 'found' : 'missing',
            ]);
          },
        }),
      });
    });
    afterAll(async () => {
      await viaOutbox?.close();
      await runner?.stop();
      await naivePool.end();
      await connection.close();
      await queue.close();
    });

    /** Runs `count` request-like transactions, `CREATORS` at a time. */
    async function underLoad(
      first: number,
      count: number,
      request: (userId: number) => Promise<void>,
    ) {
      let next = first;
      const last = first + count;
      await Promise.all(
        Array.from({ length: CREATORS }, async () => {
          while (next < last) await request(next++);
        }),
      );
    }
    /** Waits (bounded, well inside the test's own timeout) until `done()`. */
    async function until(done: () => boolean, what: string): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
        await sleep(5);
      }
    }
    async function settled(ids: number[]): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (ids.some((id) => !seen.has(id)) && Date.now() < deadline) await sleep(25);
      // graphile-worker marks jobs done in batches, a moment after their handlers return: wait
      // (bounded) for the queue to drain, then require it empty.
      const remaining = async () =>
        Number(
          (
            await queue.pool.query<{ n: string }>(
              'select count(*) as n from graphile_worker._private_jobs',
            )
          ).rows[0]?.n,
        );
      while ((await remaining()) > 0 && Date.now() < deadline) await sleep(25);
      expect(await remaining()).toBe(0);
    }
    const range = (first: number, count: number) =>
      Array.from({ length: count }, (_, i) => first + i);
    const tally = (ids: number[]) => {
      const outcomes = ids.flatMap((id) => seen.get(id) ?? []);
      return {
        found: outcomes.filter((o) => o === 'found').length,
        missing: outcomes.filter((o) => o === 'missing').length,
        runs: outcomes.length,
      };
    };

    it('control: add_job on another connection before commit lets the worker miss the row', async () => {
      const first = 100_000;
      await underLoad(first, JOBS_NAIVE, async (userId) => {
        await atomic(db(), async (tx) => {
          await executeStatement(tx, sql`insert into users (id, email) values (${userId}, 'u@x')`);
          await naivePool.query(
            `select graphile_worker.add_job('welcome', json_build_object('userId', $1::int))`,
            [userId],
          );
          // The rest of the request (rendering, another query…) lasts until the worker has
          // looked: the race is then lost every time, not only when scheduling happens to allow.
          await until(() => seen.has(userId), `the worker to run user ${userId}'s job`);
        });
      });
      const ids = range(first, JOBS_NAIVE);
      await settled(ids);
      const result = tally(ids);
      console.log(
        `[DoesNotExist control] naive enqueue: ${JSON.stringify(result)} of ${JOBS_NAIVE} jobs`,
      );
      // Every job ran before its row committed, and the worker found nothing.
      expect(result).toEqual({ found: 0, missing: JOBS_NAIVE, runs: JOBS_NAIVE });
    }, 120_000);

    for (const [delivery, first] of [
      ['add_job', 1],
      ['outbox', 10_001],
    ] as const) {
      it(`enqueue in the transaction (delivery: '${delivery}'): ${JOBS_OURS} jobs, the row is there every time, each job runs once`, async () => {
        const owner = delivery === 'outbox' ? viaOutbox : jobs;
        const started = performance.now();
        await underLoad(first, JOBS_OURS, async (userId) => {
          await atomic(db(), async (tx) => {
            await executeStatement(
              tx,
              sql`insert into users (id, email) values (${userId}, 'u@x')`,
            );
            await owner.enqueue(tx, 'welcome', { userId });
            await sleep(5);
          });
        });
        const ids = range(first, JOBS_OURS);
        await settled(ids);
        const result = tally(ids);
        console.log(
          `[DoesNotExist] ${t.driver}, delivery '${delivery}': ${JSON.stringify(result)} of ${JOBS_OURS} jobs in ${Math.round(performance.now() - started)} ms`,
        );
        expect(result).toEqual({ found: JOBS_OURS, missing: 0, runs: JOBS_OURS });
      }, 120_000);
    }
  },
  { kinds: ['postgres'] },
);
