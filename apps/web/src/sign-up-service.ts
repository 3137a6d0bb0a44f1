import { bookstoreTasks, connectWithRetry, type DatabaseConfig, signUp } from '@racefree/bookstore';
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
  options: { attempts?: number; onRetry?: (line: string) => void } = {},
): Promise<{ signUp: SignUp; close(): Promise<void> }> {
  const jobs = createJobs({
    tasks: bookstoreTasks,
    connectionString: config.queueUrl,
    maxPoolSize: 2,
    ...(database.kind === 'postgres' ? { db: database.db as AnyPgDatabase } : {}),
  });
  try {
    // With MySQL the queue is another server (QUEUE_DATABASE_URL), which may still be starting:
    // retried like the bookstore's own database, one line per attempt.
    await connectWithRetry('the job queue database', config.queueUrl, () => jobs.migrate(), {
      attempts: options.attempts ?? 8,
      onRetry: options.onRetry ?? ((line) => console.error(line)),
    });
  } catch (error) {
    await jobs.close().catch(() => undefined);
    throw error;
  }
  if (database.kind === 'mysql') await installOutbox(database.db as AnyMySqlDatabase);
  return {
    signUp: (db, input) => signUp(db, jobs, input),
    close: () => jobs.close(),
  };
}
