export { type AtomicOptions, atomic } from './atomic.js';
export {
  classifyError,
  isConnectionLost,
  isDeadlock,
  isLockNotAvailable,
  isSerializationFailure,
  isTransient,
  isUniqueViolation,
} from './classify-error.js';
export { current } from './current.js';
export type {
  AnyMySqlDatabase,
  AnyPgDatabase,
  Database,
  TransactionOf,
} from './database.js';
export type { ErrorClass, ErrorKind, IsolationLevel, LockMode } from './dialects/dialect.js';
export {
  CommitOutcomeUnknownError,
  InvalidArgumentError,
  LockNotAvailableError,
  MultipleRowsError,
  NotSupportedError,
  RacefreeError,
  type RacefreeErrorCode,
  RetryExhaustedError,
  RowNotFoundError,
  SnapshotConflictError,
  TransactionAbortedError,
  TransactionRequiredError,
  UnmanagedTransactionError,
} from './errors.js';
export { type HookOptions, onCommit, onRollback } from './hooks.js';
export { type Managed, managed } from './managed.js';
export type { RetriesOption } from './retry-policy.js';
