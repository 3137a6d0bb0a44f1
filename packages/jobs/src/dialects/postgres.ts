import { type Database } from '@racefree/transactions';
import { executeRows, onCommitNotice } from '@racefree/transactions/internal';
import { type QueueExecutor, toSql } from '../add-job.js';
import { assertQueueDatabase } from '../assert-queue-database.js';
import { writeJob } from '../write-job.js';
import type { JobDialect } from './job-dialect.js';

/**
 * PostgreSQL: the job row is written on the caller's transaction. In an `atomic` block a job
 * without a key is inserted without `add_job`'s NOTIFY (which would serialize this commit with
 * every other notifying commit on the server) and the workers are woken once it committed;
 * a keyed job, the first job of a task or named queue, a raw `db.transaction()`, or a queue
 * schema other than graphile-worker 0.17.3's goes through `add_job`.
 */
export const postgresJobDialect: JobDialect = {
  async enqueueInTransaction(queue, tx, spec, { queueDb, managed }) {
    // Only a transaction on the queue's own database can hold the job atomically.
    await assertQueueDatabase(queue, tx, queueDb);
    const execute: QueueExecutor = (query) => executeRows(tx as Database, toSql(query));
    // Quiet only in an atomic block: a raw db.transaction() has no commit hook to wake from.
    const quiet = managed && (await queue.quietInsertSupported());
    const written = await writeJob(execute, queue.schema, spec, quiet);
    // Registered where the insert ran (the innermost block on tx): a savepoint that rolls
    // back drops the wake-up with the job. A notice runs before the caller's own hooks, so a
    // slow or failing one cannot hold it back, and it cannot fail the block.
    if (written.quiet) await onCommitNotice(() => queue.wakeUps.add(1), { db: tx });
    return { queued: 'in-transaction', jobId: written.jobId };
  },
};
