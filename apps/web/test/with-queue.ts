import { bookstoreTasks, migrate, sendWelcomeEmail, signUp } from '@racefree/bookstore';
import { createJobs, installOutbox, type Jobs } from '@racefree/jobs';
import {
  createPostgresTestDatabase,
  type DialectContext,
  postgresAdminUrl,
  type TestConnection,
  type TestDatabase,
} from '@racefree/testkit';
import type { AnyMySqlDatabase, AnyPgDatabase } from '@racefree/transactions';
import { run, runOnce } from 'graphile-worker';
import type { SignUp } from '../src/create-app.js';

/**
 * The real job path for tests: a graphile-worker queue (the test database itself on
 * PostgreSQL; a separate PostgreSQL database when the bookstore is on MySQL, relayed through
 * the outbox), the bookstore's signUp on it, and a way to run the worker until the queue is empty.
 */
export async function withQueue(t: DialectContext, pool: TestConnection) {
  let queueDatabase: TestDatabase | undefined;
  if (t.kind === 'mysql')
    queueDatabase = await createPostgresTestDatabase(postgresAdminUrl(), 'queue');
  const queueUrl = queueDatabase?.url ?? t.database.url;
  await migrate(pool.db);
  const jobs: Jobs<typeof bookstoreTasks> = createJobs({
    tasks: bookstoreTasks,
    connectionString: queueUrl,
    maxPoolSize: 4,
    ...(t.kind === 'postgres' ? { db: pool.db as AnyPgDatabase } : {}),
  });
  await jobs.migrate();
  if (t.kind === 'mysql') await installOutbox(pool.db as AnyMySqlDatabase);
  const sent: string[] = [];
  const taskList = jobs.taskList({
    send_welcome_email: async (payload) => {
      await sendWelcomeEmail(pool.db, payload, (email) => {
        sent.push(email);
      });
    },
  });
  return {
    jobs,
    /** The queue database's URL. */
    url: queueUrl,
    sent,
    signUp: ((db, input) => signUp(db, jobs, input)) as SignUp,
    /** Relays the outbox (MySQL) and runs every job that is due, once. */
    async drain() {
      if (t.kind === 'mysql') await jobs.relay(pool.db as AnyMySqlDatabase);
      await runOnce({ pgPool: jobs.pgPool, taskList, logger: undefined, noHandleSignals: true });
    },
    /** A graphile-worker runner that keeps taking jobs until stopped (as the worker app does). */
    startWorker() {
      return run({
        pgPool: jobs.pgPool,
        taskList,
        concurrency: 2,
        pollInterval: 200,
        noHandleSignals: true,
        parsedCronItems: [],
      });
    },
    async queuedJobs(task: string): Promise<number> {
      const { rows } = await jobs.pgPool.query(
        `select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = $1`,
        [task],
      );
      return rows[0].n;
    },
    async close() {
      await jobs.close();
      await queueDatabase?.drop();
    },
  };
}
