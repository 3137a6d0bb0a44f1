import { fileURLToPath } from 'node:url';
import { type AnyPgDatabase, managed } from '@racefree/transactions';
import { describeDialects, describeReadme } from '@racefree/testkit';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { signUpOnMysql } from '../examples/mysql.js';
import { openOutbox } from '../examples/outbox.js';
import { openExample, signUp, startWorker } from '../examples/quick-start.js';
import { EXAMPLE_DDL, type Mailer } from '../examples/schema.js';
import { eventually } from './support/eventually.js';
import { createQueueDatabase, type QueueDatabase } from './support/queue-database.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describeReadme(packageDir);

// The README's PostgreSQL examples, run on each driver of the application's database.
describeDialects(
  'the README examples, run',
  (t) => {
    const sent: number[] = [];
    const mailer: Mailer = { welcome: (userId) => void sent.push(userId) };
    let example: Awaited<ReturnType<typeof openExample>>;
    let runner: Runner;
    let db: ReturnType<typeof managed<AnyPgDatabase>>;

    beforeAll(async () => {
      for (const ddl of EXAMPLE_DDL.postgres) await t.connection.query(ddl);
      example = await openExample(t.database.url);
      db = managed(t.connection.db as AnyPgDatabase);
      runner = await startWorker(db, example.jobs, mailer);
    });
    afterAll(async () => {
      await runner?.stop();
      await example?.jobs.close();
      await example?.db.$client.end();
    });

    it('quick start: the welcome email goes out once, for committed users only', async () => {
      const ada = await signUp(db, example.jobs, 'ada@example.com');
      // A taken email rolls the transaction back: neither the user nor the job exists.
      await expect(signUp(db, example.jobs, 'ada@example.com')).rejects.toThrow();
      await eventually(() => sent.includes(ada.id), 'the welcome email');
      // Delivered again (at-least-once), the task sends nothing more.
      await example.jobs.enqueue(db, 'send_welcome_email', { userId: ada.id });
      await eventually(
        async () => (await t.connection.query('select 1 from graphile_worker.jobs')).length === 0,
        'the queue to drain',
      );
      expect(sent).toEqual([ada.id]);
    });

    it("delivery: 'outbox': the same, relayed after the commit", async () => {
      const { jobs, relay } = await openOutbox(db, t.database.url);
      try {
        const bo = await signUp(db, jobs, 'bo@example.com');
        await eventually(() => sent.includes(bo.id), 'the welcome email');
      } finally {
        await relay.stop();
        await jobs.close();
      }
    });
  },
  { kinds: ['postgres'] },
);

describeDialects(
  'the README MySQL example, run',
  (t) => {
    let queue: QueueDatabase;
    beforeAll(async () => {
      queue = await createQueueDatabase({ max: 2 });
      for (const ddl of EXAMPLE_DDL.mysql) await t.connection.query(ddl);
    });
    afterAll(async () => {
      await queue.close();
    });

    it('the job enqueued in a MariaDB transaction reaches the queue once', async () => {
      const { mysqlDb, jobs, relay } = await signUpOnMysql(
        t.database.url,
        queue.database.url,
        'cy@example.com',
      );
      try {
        await eventually(
          async () => (await queue.jobs('send_welcome_email')).length === 1,
          'the relay',
        );
        const [user] = await t.connection.query<{ id: number }>('select id from users');
        expect((await queue.jobs('send_welcome_email')).map((job) => job.payload)).toEqual([
          { userId: Number(user?.id) },
        ]);
      } finally {
        await relay.stop();
        await jobs.close();
        await mysqlDb.$client.end();
      }
    });
  },
  { kinds: ['mysql'] },
);
