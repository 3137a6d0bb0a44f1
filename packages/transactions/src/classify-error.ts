import { RacefreeError, SnapshotConflictError } from './errors.js';
import type { ErrorClass } from './dialects/dialect.js';
import { classifyMysqlError } from './dialects/mysql.js';
import { classifyPostgresError } from './dialects/postgres.js';

/**
 * Finds the driver error inside whatever wrapped it: Drizzle's `DrizzleQueryError` keeps it in
 * `cause`, while errors of BEGIN/COMMIT arrive unwrapped. Walks at most a few levels.
 */
function unwrap(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/**
 * Classifies any error from postgres.js or mysql2 (directly or wrapped by Drizzle) into one
 * taxonomy: `{ kind, constraint?, retryable }`. Unknown errors are `{ kind: 'other' }`.
 */
export function classifyError(error: unknown): ErrorClass {
  const chain = unwrap(error);
  const statement = statementOf(chain);
  let fallback: ErrorClass | undefined;
  for (const candidate of chain) {
    if (candidate instanceof SnapshotConflictError)
      return { kind: 'serialization_failure', retryable: true };
    if (candidate instanceof RacefreeError) {
      if (candidate.code === 'LOCK_NOT_AVAILABLE')
        return { kind: 'lock_not_available', retryable: false };
      continue;
    }
    const record = candidate as Record<string, unknown>;
    // mysql2 errors carry a numeric errno, or (a connection that died) only `fatal: true`;
    // postgres.js errors carry a SQLSTATE or a CONNECTION_* code.
    const found =
      typeof record.errno === 'number' || record.fatal === true
        ? classifyMysqlError(record, statement)
        : classifyPostgresError(record);
    // An unknown driver error may still wrap a known one: keep looking, remember the first.
    if (found && found.kind !== 'other') return found;
    fallback ??= found;
  }
  return fallback ?? { kind: 'other', retryable: false };
}

/**
 * The SQL of the failed statement, when anything in the chain kept it: mysql2 puts it in `sql`,
 * Drizzle's `DrizzleQueryError` in `query`. MariaDB needs it to tell NOWAIT from a lock-wait
 * timeout (both are error 1205 there).
 */
function statementOf(chain: readonly unknown[]): string | undefined {
  for (const candidate of chain) {
    const record = candidate as { sql?: unknown; query?: unknown };
    if (typeof record.sql === 'string') return record.sql;
    if (typeof record.query === 'string') return record.query;
  }
  return undefined;
}

/** True for a unique-constraint violation; with `constraint`, only for that constraint or index. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const found = classifyError(error);
  return (
    found.kind === 'unique_violation' &&
    (constraint === undefined || found.constraint === constraint)
  );
}

/** True for a deadlock (PostgreSQL 40P01, MySQL 1213): the transaction was rolled back; re-run it. */
export function isDeadlock(error: unknown): boolean {
  return classifyError(error).kind === 'deadlock';
}

/** True for a serialization failure (40001, MariaDB 1020, or racefree's own snapshot conflict). */
export function isSerializationFailure(error: unknown): boolean {
  return classifyError(error).kind === 'serialization_failure';
}

/**
 * True when a NOWAIT lock could not be had (PostgreSQL 55P03, MySQL 3572, MariaDB 1205 from a
 * statement with NOWAIT, racefree's LockNotAvailableError). Never retried.
 */
export function isLockNotAvailable(error: unknown): boolean {
  return classifyError(error).kind === 'lock_not_available';
}

/** True when re-running the whole transaction may succeed: deadlock, serialization failure, lock-wait timeout. */
export function isTransient(error: unknown): boolean {
  return classifyError(error).retryable;
}

/**
 * True when `error` is the failure of a savepoint statement itself (SAVEPOINT, RELEASE,
 * ROLLBACK TO) or of the connection: the transaction's state is then unknown — on MySQL/MariaDB
 * typically because a deadlock already rolled the whole transaction back.
 */
export function isSavepointFailure(error: unknown): boolean {
  if (isConnectionLost(error)) return true;
  const statement = statementOf(unwrap(error));
  return statement !== undefined && /^\s*(savepoint|release|rollback\s+to)\b/i.test(statement);
}

/** True when the connection went away under the statement (so a COMMIT's outcome is unknown). */
export function isConnectionLost(error: unknown): boolean {
  return classifyError(error).kind === 'connection_lost';
}
