/**
 * Plumbing shared by the racefree packages (@racefree/rows, @racefree/jobs, @racefree/hono):
 * not part of the public API, and free to change between any two versions. Applications
 * import from `@racefree/transactions` itself.
 */
export { withConnectionTurn } from './connection-lock.js';
export { type ActiveTransaction, activeTransaction } from './current.js';
export {
  type Answer,
  type Driver,
  type DriverName,
  driverOf,
  execute,
  executeRows,
  executeStatement,
  type Family,
  familyOf,
  isDrizzleTransaction,
  prepareQuery,
  type QueryBuilder,
  runQuery,
} from './database.js';
export {
  atLeast,
  type Dialect,
  type DialectKind,
  ISOLATION_LEVELS,
  type LockClauseOptions,
  type ServerVersion,
} from './dialects/dialect.js';
export { dialectOf, knownDialect } from './dialects/detect.js';
export { onCommitNotice } from './hooks.js';
export { backoffDelay, type RetryPolicy, retryPolicy } from './retry-policy.js';
