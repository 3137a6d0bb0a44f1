export {
  type CreateJobsOptions,
  createJobs,
  type Delivery,
  type Jobs,
} from './create-jobs.js';
export {
  defineTasks,
  type PayloadInput,
  type PayloadOutput,
  type TaskName,
  type TaskSchemas,
} from './define-tasks.js';
export {
  OUTBOX_MIGRATION_SQL,
  OUTBOX_TABLE_NAME,
  outboxTable,
} from './dialects/outbox-table.js';
export { PG_OUTBOX_MIGRATION_SQL, pgOutboxTable } from './dialects/pg-outbox-table.js';
export type { EnqueueOnCommitOptions, EnqueueResult } from './enqueue.js';
export {
  ForeignTransactionError,
  InvalidPayloadError,
  JobNotAddedError,
  OutboxMissingError,
  type PayloadIssue,
  UnknownTaskError,
} from './errors.js';
export { installOutbox } from './install-outbox.js';
export type { JobKeyMode, JobOptions, JobSpec } from './job-spec.js';
export { LEDGER_MIGRATION_SQL, LEDGER_TABLE } from './ledger.js';
export type { RelayBatch, RelayFaults, RelayOptions } from './relay.js';
export type { RelayLoop, StartRelayOptions } from './start-relay.js';
export type {
  AtomicJobHelpers,
  TaskHandler,
  TaskHandlers,
  TaskListOptions,
} from './task-list.js';
