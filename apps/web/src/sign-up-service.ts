import { bookstoreTasks, type DatabaseConfig, signUp } from '@racefree/bookstore';
import { createJobs, installOutbox } from '@racefree/jobs';
import type { AnyMySqlDatabase, AnyPgDatabase } from '@racefree/transactions';
import type { SignUp } from './create-app.js';
import type { OpenDatabase } from './open-database.js';

/**
 * Sign-up wired to the job queue: on PostgreSQL the welcome-email job is added on the sign-up's
 * own transaction (same database); on MySQL it goes to the outbox in that transaction and the
 * worker's relay moves it to the queue on QUEUE_DATABASE_URL.
 */
export async function createSignUp(
  database: OpenDatabase,
  config: DatabaseConfig,
): Promise<{ signUp: SignUp; close(): Promise<void> }> {
  const jobs = createJobs({
    tasks: bookstoreTasks,
    connectionString: config.queueUrl,
    maxPoolSize: 2,
    ...(database.kind === 'postgres' ? { db: database.db as AnyPgDatabase } : {}),
  });
  await jobs.migrate();
  if (database.kind === 'mysql') await installOutbox(database.db as AnyMySqlDatabase);
  return {
    signUp: (db, input) => signUp(db, jobs, input),
    close: () => jobs.close(),
  };
}
