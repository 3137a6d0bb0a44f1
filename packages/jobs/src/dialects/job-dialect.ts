import type { Database } from '@racefree/transactions';
import type { EnqueueResult } from '../enqueue.js';
import type { JobSpec } from '../job-spec.js';
import type { Queue } from '../queue.js';

/**
 * What differs between database families when a job must commit with a transaction: on
 * PostgreSQL the job is added on the transaction itself; on MySQL/MariaDB (whose transactions
 * cannot reach the queue) an outbox row is written instead and relayed later.
 */
export interface JobDialect {
  /**
   * Makes the job part of `tx`: it exists if and only if `tx` commits. `queueDb` is the Drizzle
   * database `createJobs` was given, if any. `managed`: `tx` was opened by `atomic`, so work
   * can be hooked to its commit (a raw `db.transaction()` cannot be).
   */
  enqueueInTransaction(
    queue: Queue,
    tx: Database,
    spec: JobSpec,
    options: { queueDb: Database | undefined; managed: boolean },
  ): Promise<EnqueueResult>;
}
