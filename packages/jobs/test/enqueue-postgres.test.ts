import { setTimeout as sleep } from 'node:timers/promises';
import { atomic, type Database } from '@racefree/transactions';
import { connectTo, describeDialects, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createJobs,
  defineTasks,
  ForeignTransactionError,
  installOutbox,
  JobNotAddedError,
  type Jobs,
} from '../src/index.js';
import { eventually } from './support/eventually.js';
import { createQueueDatabase, type QueueDatabase } from './support/queue-database.js';

const tasks = defineTasks({
  welcome: z.object({ userId: z.number().int() }),
  digest: z.object({ day: z.string() }),
});

/**
 * PostgreSQL only, on each driver of the application's Drizzle database: the queue's own
 * database against another one, both deliveries. graphile-worker always uses its node-postgres
 * pool; the transactions are the application's.
 */
describeDialects(
  'enqueue on PostgreSQL',
  (t) => {
    let queue: QueueDatabase;
    let queueConnection: TestConnection;
    let jobs: Jobs<typeof tasks>;
    const queueDb = (): Database => queueConnection.db;
    /** Another database of the same server: the suite's own. */
    const otherDb = (): Database => t.connection.db;

    beforeAll(async () => {
      queue = await createQueueDatabase({ max: 3 });
      queueConnection = await connectTo(queue.database, { max: 3, driver: t.driver });
      jobs = createJobs({ tasks, pool: queue.pool });
    });
    afterAll(async () => {
      await jobs.close();
      await queueConnection.close();
      await queue.close();
    });

    const welcomes = async () => (await queue.jobs('welcome')).map((job) => job.payload.userId);

    it('never waits for a second pooled connection: works on a pool of one held by the transaction', async () => {
      const single = await connectTo(queue.database, { max: 1, driver: t.driver });
      await installOutbox(single.db);
      try {
        for (const delivery of ['add_job', 'outbox'] as const) {
          const onePool = createJobs({ tasks, pool: queue.pool, db: single.db as never, delivery });
          // Rolled back after the enqueue returns: the point is that it returns.
          const enqueued = atomic(single.db, async (tx) => {
            await onePool.enqueue(tx, 'welcome', { userId: 1 });
            throw new Error('enqueued');
          });
          const outcome = await Promise.race([
            enqueued.catch((error: Error) => error.message),
            sleep(10_000, 'hung waiting for a connection'),
          ]);
          expect(outcome, delivery).toBe('enqueued');
          await onePool.close();
        }
        expect(await welcomes()).toEqual([]);
      } finally {
        await single.close();
      }
    });

    it('refuses a transaction on another database, pointing at the outbox and enqueueOnCommit', async () => {
      await atomic(otherDb(), async (tx) => {
        const error = await jobs.enqueue(tx, 'welcome', { userId: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ForeignTransactionError);
        expect((error as Error).message).toMatch(/delivery: 'outbox'/);
        expect((error as Error).message).toMatch(/enqueueOnCommit/);
        expect((error as ForeignTransactionError).code).toBe('FOREIGN_TRANSACTION');
      });
      expect(await welcomes()).toEqual([]);
    });

    it("delivery: 'outbox' takes a transaction on any database: relayed once, right after its commit", async () => {
      await installOutbox(otherDb());
      const viaOutbox = createJobs({ tasks, pool: queue.pool, delivery: 'outbox' });
      try {
        const result = await atomic(otherDb(), async (tx) => {
          const enqueued = await viaOutbox.enqueue(tx, 'welcome', { userId: 2 });
          expect(await welcomes()).toEqual([]); // nothing before the commit
          return enqueued;
        });
        expect(result.queued).toBe('outbox');
        // No relay call: the after-commit pass brings it.
        await eventually(async () => (await welcomes()).includes(2), 'the after-commit relay');
        await atomic(otherDb(), async (tx) => {
          await viaOutbox.enqueue(tx, 'welcome', { userId: 3 });
          throw new Error('rolled back');
        }).catch(() => undefined);
        expect(await viaOutbox.relay(otherDb())).toBe(0);
        expect(await welcomes()).toEqual([2]);
      } finally {
        await viaOutbox.close();
      }
    });

    it('relayAfterCommit: false leaves the rows to relay() and startRelay', async () => {
      const quiet = createJobs({
        tasks,
        pool: queue.pool,
        delivery: 'outbox',
        relayAfterCommit: false,
      });
      try {
        await atomic(otherDb(), (tx) => quiet.enqueue(tx, 'welcome', { userId: 4 }));
        await quiet.close(); // would wait for an after-commit pass, had one started
        expect(await welcomes()).not.toContain(4);
        expect(await quiet.relay(otherDb())).toBe(1);
        expect((await welcomes()).filter((id) => id === 4)).toHaveLength(1);
      } finally {
        await quiet.close();
      }
    });

    it('after close(), a commit starts no relay pass: its row waits for relay()', async () => {
      const closed = createJobs({ tasks, pool: queue.pool, delivery: 'outbox' });
      await closed.close();
      await atomic(otherDb(), (tx) => closed.enqueue(tx, 'welcome', { userId: 5 }));
      expect(await welcomes()).not.toContain(5);
      expect(await closed.relay(otherDb())).toBe(1);
      expect((await welcomes()).filter((id) => id === 5)).toHaveLength(1);
    });

    it('recognises the queue database under another host name (same cluster, same database)', async () => {
      const url = new URL(queue.database.url);
      url.hostname = url.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
      const sameDb = await connectTo(
        { kind: 'postgres', url: url.toString() },
        { max: 1, driver: t.driver },
      );
      try {
        const result = await atomic(sameDb.db, (tx) =>
          jobs.enqueue(tx, 'digest', { day: 'monday' }),
        );
        expect(result.queued).toBe('in-transaction');
        expect((await queue.jobs('digest')).map((job) => job.payload)).toEqual([{ day: 'monday' }]);
      } finally {
        await sameDb.close();
      }
    });

    it('enqueueOnCommit dispatches after another database commits, never after a rollback', async () => {
      await atomic(otherDb(), async () => {
        await jobs.enqueueOnCommit('welcome', { userId: 10 });
        expect(await welcomes()).not.toContain(10); // not before the commit
      });
      await atomic(otherDb(), async () => {
        await jobs.enqueueOnCommit('welcome', { userId: 11 });
        throw new Error('rolled back');
      }).catch(() => undefined);
      const ids = await welcomes();
      expect(ids).toContain(10);
      expect(ids).not.toContain(11);
    });

    it('passes every option through to add_job', async () => {
      const runAt = new Date(Date.now() + 3_600_000);
      await atomic(queueDb(), async (tx) => {
        await jobs.enqueue(
          tx,
          'digest',
          { day: 'tuesday' },
          {
            runAt,
            jobKey: 'digest:tuesday',
            queueName: 'digests',
            priority: 5,
            maxAttempts: 3,
          },
        );
        await jobs.enqueue(tx, 'digest', { day: 'wednesday' }, { delayMs: 60_000 });
      });
      const byDay = new Map((await queue.jobs('digest')).map((job) => [job.payload.day, job]));
      const tuesday = byDay.get('tuesday');
      expect(tuesday).toMatchObject({
        key: 'digest:tuesday',
        queue_name: 'digests',
        priority: 5,
        max_attempts: 3,
      });
      expect(tuesday?.run_at.getTime()).toBe(runAt.getTime());
      const wednesday = byDay.get('wednesday');
      expect(wednesday?.run_at.getTime()).toBeGreaterThan(Date.now() + 50_000);
    });

    it('keeps graphile-worker job-key semantics: a second add with the key replaces the job', async () => {
      for (const day of ['thursday', 'friday'])
        await atomic(queueDb(), (tx) => jobs.enqueue(tx, 'digest', { day }, { jobKey: 'weekly' }));
      const keyed = (await queue.jobs('digest')).filter((job) => job.key === 'weekly');
      expect(keyed.map((job) => job.payload)).toEqual([{ day: 'friday' }]);
    });

    // graphile/worker issue 580: add_job with a job key returns an all-null row when a worker
    // locks the keyed job between add_jobs' two statements. That interleaving happens inside
    // one plpgsql call and cannot be forced from outside, so this reproduces its observable
    // symptom for real: an add_job in a schema of its own returns no job for its first calls,
    // then delegates to graphile-worker's.
    it('re-issues add_job when it returns no job (issue 580), and gives up loudly', async () => {
      await queue.pool.query(`
      create schema if not exists flaky;
      create table flaky.calls (null_rows int not null, calls int not null default 0);
      insert into flaky.calls (null_rows) values (2);
      create function flaky.add_job(identifier text, payload json default null, queue_name text default null,
        run_at timestamptz default null, max_attempts integer default null, job_key text default null,
        priority integer default null, flags text[] default null, job_key_mode text default 'replace')
      returns table (id bigint) language plpgsql as $$
      declare
        v_calls int;
        v_null_rows int;
      begin
        update flaky.calls set calls = calls + 1 returning calls, null_rows into v_calls, v_null_rows;
        if v_calls <= v_null_rows then return query select null::bigint; return; end if;
        return query select (graphile_worker.add_job(identifier, payload, queue_name, run_at,
          max_attempts, job_key, priority, flags, job_key_mode)).id;
      end $$;`);
      const flaky = createJobs({ tasks, pool: queue.pool, schema: 'flaky' });
      const result = await atomic(queueDb(), (tx) =>
        flaky.enqueue(tx, 'digest', { day: 'saturday' }, { jobKey: 'contended' }),
      );
      expect(result.queued).toBe('in-transaction');
      const { rows } = await queue.pool.query<{ calls: number }>('select calls from flaky.calls');
      expect(rows[0]?.calls).toBe(3);
      expect((await queue.jobs('digest')).filter((job) => job.key === 'contended')).toHaveLength(1);

      await queue.pool.query('update flaky.calls set null_rows = 1000, calls = 0');
      await expect(
        atomic(queueDb(), (tx) => flaky.enqueue(tx, 'digest', { day: 'sunday' }, { jobKey: 'x' })),
      ).rejects.toBeInstanceOf(JobNotAddedError);
    });
  },
  { kinds: ['postgres'] },
);
