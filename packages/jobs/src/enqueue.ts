import { type Database, onCommit } from '@racefree/transactions';
import { activeTransaction, onCommitNotice } from '@racefree/transactions/internal';
import type { AfterCommitRelay } from './after-commit-relay.js';
import type { TaskSchemas } from './define-tasks.js';
import type { Delivery } from './dialects/job-dialect.js';
import { jobDialectFor } from './dialects/job-dialect-for.js';
import type { JobOptions } from './job-spec.js';
import { prepareJob } from './prepare-job.js';
import type { Queue } from './queue.js';

/**
 * What `enqueue` did with the job: `queued` says where it went (`jobId` is graphile-worker's id,
 * `outboxId` the outbox row's).
 */
export type EnqueueResult =
  /** Added on your PostgreSQL transaction: it exists if and only if that transaction commits. */
  | { queued: 'in-transaction'; jobId: string }
  /** Written to the outbox in your transaction; the relay adds it once that has committed. */
  | { queued: 'outbox'; outboxId: string }
  /** No transaction was open: added to the queue at once. */
  | { queued: 'now'; jobId: string };

/**
 * Options of `enqueueOnCommit`: the job's options, plus how the after-commit hook behaves.
 *
 * @example
 * await jobs.enqueueOnCommit('digest', { day }, { robust: true, db: reportsDb });
 */
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
  delivery: Delivery;
  /** Relays an outbox right after its transaction commits; `undefined` when turned off. */
  afterCommit: AfterCommitRelay | undefined;
}

/**
 * The transactional enqueue: the job joins whatever transaction `db` is in — through
 * `add_job` or the outbox, as the dialect and `delivery` say — or is added now.
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
  const result = await dialect.enqueueInTransaction(context.queue, active.tx, spec, {
    queueDb: context.queueDb,
    delivery: context.delivery,
  });
  const { afterCommit } = context;
  // A raw db.transaction() has no commit to hook: its rows wait for startRelay. Registered
  // where the row was written (the innermost block), so a savepoint that rolls back drops the
  // pass with the row; a notice runs before the caller's own hooks and can never fail them.
  if (result.queued === 'outbox' && afterCommit && !active.unmanaged) {
    const { root } = active;
    await onCommitNotice(() => afterCommit.kick(root), { db: active.tx });
  }
  return result;
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
