import { atomic, type Database } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { connectTo, describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { run, runOnce, type TaskList } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { createJobs, defineTasks, type Jobs } from '../src/index.js';
import { eventually } from './support/eventually.js';
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

/** graphile-worker's own record of a job: its public `jobs` view. */
interface JobRow {
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  locked: boolean;
}

describeDialects(
  'taskList',
  (t) => {
    let queue: QueueDatabase;
    let connection: TestConnection;
    let jobs: Jobs<typeof tasks>;
    const db = (): Database => connection.db;

    beforeAll(async () => {
      queue = await createQueueDatabase({ max: 5 });
      connection = await connectTo(queue.database, { max: 4, driver: t.driver });
      jobs = createJobs({ tasks, pool: queue.pool, db: connection.db as never });
      await connection.query('create table greetings (user_id int primary key)');
    });
    afterAll(async () => {
      await jobs.close();
      await connection.close();
      await queue.close();
    });

    const jobRow = async (id: string): Promise<JobRow | undefined> =>
      (
        await queue.pool.query<JobRow>(
          'select attempts, max_attempts, last_error, locked_at is not null as locked from graphile_worker.jobs where id = $1',
          [id],
        )
      ).rows[0];
    /** A job with a bad payload, from a producer that bypassed enqueue (another service, an old deploy). */
    const addBadSignup = async (): Promise<string> =>
      (
        await queue.pool.query<{ id: string }>(
          `select id::text as id from graphile_worker.add_job('signup', '{"email": "not-an-email", "age": 30}'::json, max_attempts => 5)`,
        )
      ).rows[0]?.id ?? '';
    const listFor = (owner: Jobs<typeof tasks>, calls: Map<string, number>, handled: string[]) =>
      counted(
        owner.taskList({
          signup: () => void handled.push('signup'),
          greet: () => undefined,
          follow_up: () => undefined,
        }),
        calls,
      );
    /** Waits (bounded) for graphile-worker's record of the job to satisfy `done`. */
    async function until(
      id: string,
      done: (job: JobRow | undefined) => boolean,
    ): Promise<JobRow | undefined> {
      let job: JobRow | undefined;
      await eventually(async () => done((job = await jobRow(id))), `job ${id} to change`);
      return job;
    }
    /** Makes the job due now (graphile-worker's public reschedule_jobs; attempts untouched). */
    const dueNow = (id: string) =>
      queue.pool.query(
        `select graphile_worker.reschedule_jobs(array[$1::bigint], run_at := now() - interval '1 minute')`,
        [id],
      );

    /** Even due now, a job failed for good is never fetched again: no retry storm. */
    async function expectNeverFetched(id: string, calls: Map<string, number>, handled: string[]) {
      const before = calls.get('signup');
      await dueNow(id);
      await runOnce({
        pgPool: queue.pool,
        taskList: listFor(jobs, calls, handled),
        logger: quietLogger,
      });
      expect(calls.get('signup')).toBe(before);
      const job = await jobRow(id);
      expect(job?.attempts).toBe(job?.max_attempts);
    }

    it('fails a job with a bad payload once and for good, naming the field, on a running worker', async () => {
      const id = await addBadSignup();
      const calls = new Map<string, number>();
      const handled: string[] = [];
      const runner = await run({
        pgPool: queue.pool,
        taskList: listFor(jobs, calls, handled),
        concurrency: 2,
        pollInterval: 100,
        noHandleSignals: true,
        logger: quietLogger,
      });
      let failed: JobRow | undefined;
      try {
        failed = await until(id, (job) => job?.attempts === job?.max_attempts);
      } finally {
        await runner.stop();
      }
      expect(failed).toMatchObject({ attempts: 5, max_attempts: 5, locked: false });
      expect(failed?.last_error).toMatch(/Invalid payload for task "signup": email:/);
      expect(calls.get('signup')).toBe(1); // one attempt: no retry came before the permanent failure
      expect(handled).toEqual([]);
      await expectNeverFetched(id, calls, handled);
    });

    // The permanent failure is a second step after the failed attempt. A process that dies (or
    // a queue it cannot reach) in between leaves what graphile-worker recorded: an ordinary
    // failed attempt with its retry scheduled. That retry validates again — the handler never
    // runs — and fails the job for good.
    it('a crash between the failed attempt and the permanent failure costs one more validation, never a handler run', async () => {
      const id = await addBadSignup();
      const calls = new Map<string, number>();
      const handled: string[] = [];
      // This worker's racefree calls cannot reach the queue: its follow-up never happens.
      const cutOff = createJobs({ tasks, connectionString: 'postgres://nobody@127.0.0.1:1/none' });
      // Failures flushed before runOnce returns, so the state read next is graphile-worker's.
      const settled = { preset: { worker: { failJobBatchDelay: 0 } } };
      await runOnce({
        pgPool: queue.pool,
        taskList: listFor(cutOff, calls, handled),
        logger: quietLogger,
        ...settled,
      });
      await cutOff.close(); // the follow-up, still retrying, is abandoned as a crash would
      const afterCrash = await jobRow(id);
      expect(afterCrash).toMatchObject({ attempts: 1, max_attempts: 5, locked: false });
      expect(afterCrash?.last_error).toMatch(/email:/);

      // Its retry, brought forward, runs on a worker that can reach the queue.
      await dueNow(id);
      await runOnce({
        pgPool: queue.pool,
        taskList: listFor(jobs, calls, handled),
        logger: quietLogger,
        ...settled,
      });
      const failed = await until(id, (job) => job?.attempts === job?.max_attempts);
      expect(failed?.last_error).toMatch(/Invalid payload for task "signup": email:/);
      expect(calls.get('signup')).toBe(2);
      expect(handled).toEqual([]);
      await expectNeverFetched(id, calls, handled);
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
      const { id } = await atomic(db(), (tx) => jobs.enqueue(tx, 'greet', { userId: 7 })).then(
        (result) => ({ id: 'jobId' in result ? result.jobId : '' }),
      );
      const runner = await run({
        pgPool: queue.pool,
        taskList,
        concurrency: 2,
        pollInterval: 100,
        noHandleSignals: true,
        logger: quietLogger,
      });
      try {
        // The failed attempt, then its retry brought forward (graphile-worker's own backoff
        // would wait exp(1) ≈ 2.7 s).
        await until(id, (job) => job?.attempts === 1 && !job.locked);
        await dueNow(id);
        const pending = async () =>
          (await queue.jobs('greet')).length + (await queue.jobs('follow_up')).length;
        await eventually(async () => (await pending()) === 0, 'the jobs to complete');
      } finally {
        await runner.stop();
      }
      expect(await queue.jobs('greet')).toHaveLength(0); // completed
      expect(seenBeforeAttempt).toEqual([0, 0]); // the failed attempt's insert was rolled back
      expect(await greetingsOf(7)).toBe(1);
      // Only the successful attempt's follow-up job ever existed.
      expect(followedUp).toEqual([7]);
    });
  },
  { kinds: ['postgres'] },
);
