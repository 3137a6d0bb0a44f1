import { type Database, executeRows } from '@racefree/transactions';
import { addJob } from '../add-job.js';
import { assertQueueDatabase } from '../assert-queue-database.js';
import type { JobDialect } from './job-dialect.js';

/** PostgreSQL: `graphile_worker.add_job(...)` on the caller's transaction. */
export const postgresJobDialect: JobDialect = {
  async enqueueInTransaction(queue, tx, spec, queueDb) {
    // Only a transaction on the queue's own database can hold the job atomically.
    await assertQueueDatabase(queue, tx, queueDb);
    const jobId = await addJob((query) => executeRows(tx as Database, query), queue.schema, spec);
    return { queued: 'in-transaction', jobId };
  },
};
