import { type Database, onCommit } from '@racefree/transactions';
import { activeTransaction } from '@racefree/transactions/internal';
import type { TaskSchemas } from './define-tasks.js';
import { jobDialectFor } from './dialects/job-dialect-for.js';
import type { JobOptions } from './job-spec.js';
import { prepareJob } from './prepare-job.js';
import type { Queue } from './queue.js';

/** What `enqueue` did with the job. */
export type EnqueueResult =
  /** Added on your PostgreSQL transaction: it exists if and only if that transaction commits. */
  | { queued: 'in-transaction'; jobId: string }
  /** Written to the outbox in your MySQL/MariaDB transaction; the relay will add it. */
  | { queued: 'outbox'; outboxId: string }
  /** No transaction was open: added to the queue at once. */
  | { queued: 'now'; jobId: string };

/** Options of `enqueueOnCommit`: the job's options, plus how the after-commit hook behaves. */
export interface EnqueueOnCommitOptions extends JobOptions {
  /**
   * `true`: a failure to add the job (queue unreachable) is logged and later hooks still run.
   * Default `false`: it is thrown from the `atomic` block, after your data committed.
   */
  robust?: boolean;
  /** The database whose transaction the dispatch waits for. Default: the innermost `atomic` block. */
  db?: Database;
}

/** What the enqueue functions need from `createJobs`. */
export interface EnqueueContext {
  queue: Queue;
  tasks: TaskSchemas;
  /** The Drizzle database of the queue's database, when `createJobs` was given one. */
  queueDb: Database | undefined;
}

/**
 * The transactional enqueue: the job joins whatever transaction `db` is in (PostgreSQL: on the
 * queue's database, refused elsewhere; MySQL/MariaDB: as an outbox row), or is added now.
 */
export async function enqueueJob(
  context: EnqueueContext,
  db: Database,
  name: string,
  payload: unknown,
  options: JobOptions | undefined,
): Promise<EnqueueResult> {
  const dialect = jobDialectFor(db, 'enqueue');
  const spec = await prepareJob(context.tasks, name, payload, options);
  const active = activeTransaction(db);
  if (!active) return { queued: 'now', jobId: await context.queue.addNow(spec) };
  return dialect.enqueueInTransaction(context.queue, active.tx, spec, {
    queueDb: context.queueDb,
    managed: !active.unmanaged,
  });
}

/** Celery's `delay_on_commit`: validate now, dispatch from an `onCommit` hook. */
export async function enqueueJobOnCommit(
  context: EnqueueContext,
  name: string,
  payload: unknown,
  options: EnqueueOnCommitOptions = {},
): Promise<void> {
  const { robust, db, ...jobOptions } = options;
  const spec = await prepareJob(context.tasks, name, payload, jobOptions);
  const hookOptions = { ...(robust === undefined ? {} : { robust }), ...(db ? { db } : {}) };
  await onCommit(async () => {
    await context.queue.addNow(spec);
  }, hookOptions);
}
