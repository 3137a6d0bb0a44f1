import { randomUUID } from 'node:crypto';
import { outboxTable } from '@racefree/jobs';
import { atomic } from '@racefree/transactions';
import {
  createPostgresTestDatabase,
  describeDialects,
  postgresAdminUrl,
  type TestDatabase,
} from '@racefree/testkit';
import { getTableName } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createLog } from '../src/log.js';
import { type RunningWorker, startWorker } from '../src/start-worker.js';

// DATABASE_URL=mysql://…: the worker relays the application's outbox into the queue.
describeDialects(
  'worker with a MySQL/MariaDB application database',
  (t) => {
    let queueDatabase: TestDatabase;
    let queuePool: pg.Pool;
    let worker: RunningWorker | undefined;

    beforeAll(async () => {
      queueDatabase = await createPostgresTestDatabase(postgresAdminUrl(), 'wq');
      queuePool = new pg.Pool({ connectionString: queueDatabase.url, max: 2 });
      worker = await startWorker(
        loadConfig({
          DATABASE_URL: t.database.url,
          QUEUE_DATABASE_URL: queueDatabase.url,
          WORKER_CONCURRENCY: '2',
          RELAY_POLL_INTERVAL_MS: '50',
        }),
        createLog(() => undefined),
      );
    });
    afterAll(async () => {
      await worker?.stop();
      await queuePool.end();
      await queueDatabase.drop();
    });

    it('runs a job enqueued in a committed MySQL transaction, and none for a rolled-back one', async () => {
      const { jobs } = worker as RunningWorker;
      const committed = randomUUID();
      const rolledBack = randomUUID();
      await atomic(t.connection.db, (tx) =>
        jobs.enqueue(tx, 'record_event', { eventId: committed, name: 'committed' }),
      );
      await atomic(t.connection.db, async (tx) => {
        await jobs.enqueue(tx, 'record_event', { eventId: rolledBack, name: 'rolled back' });
        throw new Error('rollback');
      }).catch(() => undefined);
      const recorded = async () =>
        (
          await queuePool.query<{ event_id: string }>('select event_id from worker_events')
        ).rows.map((row) => row.event_id);
      // Wait until nothing is left anywhere — outbox and queue — so a leaked job for the
      // rolled-back transaction would have run by the time the events are compared.
      const drained = async () => {
        const [outbox] = await t.connection.query<{ n: number | string }>(
          `select count(*) as n from \`${getTableName(outboxTable)}\``,
        );
        const { rows } = await queuePool.query<{ n: string }>(
          'select count(*) as n from graphile_worker._private_jobs',
        );
        return Number(outbox?.n) === 0 && Number(rows[0]?.n) === 0;
      };
      const deadline = Date.now() + 10_000;
      while (((await recorded()).length === 0 || !(await drained())) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(await drained()).toBe(true);
      expect(await recorded()).toEqual([committed]);
    });
  },
  { kinds: ['mysql'] },
);
