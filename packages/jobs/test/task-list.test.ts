import { atomic, type Database } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { connectTo, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { run, runOnce, type TaskList } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineTasks, type Jobs } from '../src/index.js';
import { createQueueDatabase, type QueueDatabase, quietLogger } from './support/queue-database.js';

const tasks = defineTasks({
  signup: z.object({ email: z.email(), age: z.number().int().min(0) }),
  greet: z.object({ userId: z.number().int() }),
  follow_up: z.object({ userId: z.number().int() }),
});

/** Wraps each task of a list so the test can count how often graphile-worker ran it. */
function counted(list: TaskList, calls: Map<string, number>): TaskList {
  return Object.fromEntries(
    Object.entries(list).map(([name, task]) => [
      name,
      (payload: unknown, helpers: Parameters<NonNullable<TaskList[string]>>[1]) => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return task?.(payload, helpers);
      },
    ]),
  ) as TaskList;
}

describe('taskList', () => {
  let queue: QueueDatabase;
  let connection: TestConnection;
  let jobs: Jobs<typeof tasks>;
  const db = (): Database => connection.db;

  beforeAll(async () => {
    queue = await createQueueDatabase({ max: 5 });
    connection = await connectTo(queue.database, { max: 4 });
    jobs = createJobs({ tasks, pool: queue.pool, db: connection.db as never });
    await connection.query('create table greetings (user_id int primary key)');
  });
  afterAll(async () => {
    await connection.close();
    await queue.close();
  });

  it('fails a job with a bad payload once and for good, naming the field', async () => {
    // A producer that bypassed enqueue's validation (another service, an old deploy).
    await queue.pool.query(
      `select graphile_worker.add_job('signup', '{"email": "not-an-email", "age": 30}'::json, max_attempts => 5)`,
    );
    const calls = new Map<string, number>();
    let handled = 0;
    const taskList = counted(
      jobs.taskList({
        signup: () => {
          handled += 1;
        },
        greet: () => undefined,
        follow_up: () => undefined,
      }),
      calls,
    );
    // graphile-worker 0.17.3 records a failure without waiting for it (fail_job runs after the
    // task settles, and runOnce may return first) unless failures are batched: a batch is
    // flushed before runOnce returns, so the job read next is the one graphile-worker left.
    const settled = { preset: { worker: { failJobBatchDelay: 0 } } };
    await runOnce({ pgPool: queue.pool, taskList, logger: quietLogger, ...settled });
    const [job] = await queue.jobs('signup');
    expect(job?.attempts).toBe(5); // no attempts left
    expect(job?.max_attempts).toBe(5);
    expect(job?.last_error).toMatch(/Invalid payload for task "signup": email:/);
    // Even due now, graphile-worker never fetches it again: no retry storm.
    await queue.pool.query(
      `update graphile_worker._private_jobs set run_at = now() - interval '1 minute'`,
    );
    await runOnce({ pgPool: queue.pool, taskList, logger: quietLogger, ...settled });
    expect(calls.get('signup')).toBe(1);
    expect(handled).toBe(0);
    expect((await queue.jobs('signup'))[0]?.attempts).toBe(5);
  });

  it('runs handlers atomically: a failed attempt leaves nothing, the retry succeeds once', async () => {
    let failuresLeft = 1;
    const seenBeforeAttempt: number[] = [];
    const followedUp: number[] = [];
    const greetingsOf = async (userId: number) =>
      (await connection.query('select 1 from greetings where user_id = $1', [userId])).length;
    const taskList = jobs.taskList(
      {
        signup: () => undefined,
        greet: async ({ userId }, { tx }) => {
          seenBeforeAttempt.push(await greetingsOf(userId));
          await executeStatement(tx, sql`insert into greetings (user_id) values (${userId})`);
          // Chained work joins the handler's transaction too.
          await jobs.enqueue(tx, 'follow_up', { userId });
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            throw new Error('mail server down');
          }
        },
        follow_up: ({ userId }) => {
          followedUp.push(userId);
        },
      },
      { atomic: db() },
    );
    await atomic(db(), (tx) => jobs.enqueue(tx, 'greet', { userId: 7 }));
    const runner = await run({
      pgPool: queue.pool,
      taskList,
      concurrency: 2,
      pollInterval: 100,
      noHandleSignals: true,
      logger: quietLogger,
    });
    try {
      // graphile-worker's own backoff: the retry comes exp(1) ≈ 2.7 s after the failure.
      const deadline = Date.now() + 15_000;
      const pending = async () =>
        (await queue.jobs('greet')).length + (await queue.jobs('follow_up')).length;
      while ((await pending()) > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await runner.stop();
    }
    expect(await queue.jobs('greet')).toHaveLength(0); // completed
    expect(seenBeforeAttempt).toEqual([0, 0]); // the failed attempt's insert was rolled back
    expect(await greetingsOf(7)).toBe(1);
    // Only the successful attempt's follow-up job ever existed.
    expect(followedUp).toEqual([7]);
  });
});
