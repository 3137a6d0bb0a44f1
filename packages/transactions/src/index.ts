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
export { type ActiveTransaction, activeTransaction, current } from './current.js';
export {
  type AnyMySqlDatabase,
  type AnyPgDatabase,
  type Database,
  executeInsert,
  executeRows,
  executeStatement,
  type Family,
  familyOf,
  type InsertOutcome,
  type Query,
  type RenderedQuery,
  renderQuery,
  type TransactionOf,
} from './database.js';
export {
  type Dialect,
  type DialectKind,
  type ErrorClass,
  type ErrorKind,
  ISOLATION_LEVELS,
  type IsolationLevel,
  type LockClauseOptions,
  type LockMode,
  atLeast,
  parseVersion,
  type ServerVersion,
} from './dialects/dialect.js';
export { dialectOf, knownDialect } from './dialects/detect.js';
export { mariadbDialect } from './dialects/mariadb.js';
export { mysqlDialect } from './dialects/mysql.js';
export { postgresDialect } from './dialects/postgres.js';
export {
  CommitOutcomeUnknownError,
  InvalidArgumentError,
  LockNotAvailableError,
  MultipleRowsError,
  RacefreeError,
  type RacefreeErrorCode,
  RetryExhaustedError,
  RowNotFoundError,
  SnapshotConflictError,
  NotSupportedError,
  TransactionAbortedError,
  TransactionRequiredError,
  UnmanagedTransactionError,
} from './errors.js';
export { type HookOptions, onCommit, onCommitNotice, onRollback } from './hooks.js';
export { renderOnce } from './render-once.js';
export {
  backoffDelay,
  type RetriesOption,
  type RetryPolicy,
  retryPolicy,
} from './retry-policy.js';
