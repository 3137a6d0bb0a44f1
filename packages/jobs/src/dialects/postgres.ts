import { type Database, executeRows, onCommitNotice } from '@racefree/transactions';
import { addJob, type QueueExecutor } from '../add-job.js';
import { assertQueueDatabase } from '../assert-queue-database.js';
import { insertJob } from '../insert-job.js';
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
    const execute: QueueExecutor = (query) => executeRows(tx as Database, query);
    if (managed && spec.jobKey === null && (await queue.quietInsertSupported())) {
      const jobId = await insertJob(execute, queue.schema, spec);
      if (jobId !== undefined) {
        // Registered where the insert ran (the innermost block on tx): a savepoint that rolls
        // back drops the wake-up with the job. A notice runs before the caller's own hooks, so
        // a slow or failing one cannot hold it back, and it cannot fail the block.
        await onCommitNotice(() => queue.wakeUps.add(1), { db: tx });
        return { queued: 'in-transaction', jobId };
      }
    }
    const jobId = await addJob(execute, queue.schema, spec);
    return { queued: 'in-transaction', jobId };
  },
};
