import { NotSupportedError } from '../errors.js';
import {
  atLeast,
  type Dialect,
  type ErrorClass,
  type IsolationLevel,
  type LockClauseOptions,
  type LockMode,
  lockedTables,
  renderLockClause,
  type ServerVersion,
} from './dialect.js';

/**
 * MySQL (Oracle). 8.0 renders `FOR SHARE` and has NOWAIT, SKIP LOCKED and OF; 5.7 has only
 * `FOR UPDATE` / `LOCK IN SHARE MODE`. These renderings are checked by SQL-rendering tests:
 * MySQL 8 itself cannot run on the development machines (MariaDB stands in for the driver side).
 */
export function mysqlDialect(
  version: ServerVersion,
  defaultIsolationLevel: IsolationLevel,
): Dialect {
  const modern = atLeast(version, 8, 0);
  return {
    kind: 'mysql',
    version,
    defaultIsolationLevel,
    lockModes: ['update', 'share'],
    supportsNoWait: modern,
    supportsSkipLocked: modern,
    supportsLockOf: modern,
    supportsAnonymousBlocks: false,
    lockClause(mode, options = {}) {
      return mysqlFamilyLockClause(
        this,
        mode,
        options,
        modern ? 'FOR SHARE' : 'LOCK IN SHARE MODE',
      );
    },
    quoteIdentifier: quoteBacktick,
  };
}

/** Shared by MySQL and MariaDB: validates the request against `dialect` and renders it. */
export function mysqlFamilyLockClause(
  dialect: Dialect,
  mode: LockMode,
  options: LockClauseOptions,
  shareSql: string,
): string {
  const server = `${dialect.kind === 'mariadb' ? 'MariaDB' : 'MySQL'} ${dialect.version.text}`;
  if (mode !== 'update' && mode !== 'share') {
    throw new NotSupportedError(
      `Lock mode '${mode}' exists only on PostgreSQL; ${server} has 'update' and 'share'.`,
    );
  }
  if (options.noWait && options.skipLocked)
    throw new NotSupportedError('noWait and skipLocked cannot be combined');
  if (options.noWait && !dialect.supportsNoWait)
    throw new NotSupportedError(`NOWAIT is not supported by ${server}.`);
  if (options.skipLocked && !dialect.supportsSkipLocked) {
    throw new NotSupportedError(
      `SKIP LOCKED is not supported by ${server} (MariaDB has it from 10.6, MySQL from 8.0).`,
    );
  }
  const of = lockedTables(options.of);
  if (of && !dialect.supportsLockOf) {
    throw new NotSupportedError(
      `FOR UPDATE OF is not supported by ${server} (MySQL has it from 8.0; MariaDB not at all): lock the rows of one table per query.`,
    );
  }
  return renderLockClause(dialect, mode === 'update' ? 'FOR UPDATE' : shareSql, of, options);
}

/** Quotes an identifier with backticks, as MySQL and MariaDB do. */
export function quoteBacktick(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``;
}

const CONNECTION_LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'ERR_STREAM_DESTROYED',
]);

/**
 * A NOWAIT (or MariaDB's `WAIT 0`) locking clause in a statement. MariaDB reports a NOWAIT
 * lock it could not get as error 1205 — the very code and message of a lock-wait timeout — so
 * the statement is the only witness of which one happened.
 */
const NOWAIT_STATEMENT = /\bNOWAIT\b|\bWAIT\s+0\b/i;

/**
 * Classifies a mysql2 error by errno; the constraint comes from the message, the only place
 * MySQL names it ("for key 'books.books_isbn_unique'" on MySQL 8.0.19+, "'books_isbn_unique'"
 * before and on MariaDB). MariaDB's 1020 ("record has changed since last read", raised under
 * innodb_snapshot_isolation) is a serialization failure. 1205 is a lock-wait timeout
 * (retryable) unless `statement` asked for NOWAIT: MariaDB 10.3+ raises 1205, not MySQL 8's
 * 3572, when a `FOR UPDATE NOWAIT` finds the row locked, and that must not be retried.
 * An error with `fatal: true` and no errno is mysql2's own "connection is in closed state".
 */
export function classifyMysqlError(
  error: {
    errno?: unknown;
    code?: unknown;
    message?: unknown;
    sqlMessage?: unknown;
    fatal?: unknown;
  },
  statement?: string,
): ErrorClass | undefined {
  const errno = typeof error.errno === 'number' ? error.errno : undefined;
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code && CONNECTION_LOST_CODES.has(code)) return { kind: 'connection_lost', retryable: false };
  if (errno === undefined) {
    return error.fatal === true ? { kind: 'connection_lost', retryable: false } : undefined;
  }
  const message = String(error.sqlMessage ?? error.message ?? '');
  switch (errno) {
    case 1062:
    case 1586: {
      // The message ends with the key; the duplicate value comes before it and may itself
      // contain "for key '…'".
      const key = (/for key '([^']+)'\s*$/.exec(message) ??
        [...message.matchAll(/for key '([^']+)'/g)].at(-1))?.[1];
      const constraint = key?.includes('.') ? key.slice(key.lastIndexOf('.') + 1) : key;
      return constraint
        ? { kind: 'unique_violation', constraint, retryable: false }
        : { kind: 'unique_violation', retryable: false };
    }
    case 1451:
    case 1452:
    case 1216:
    case 1217: {
      // "… a foreign key constraint fails (`db`.`child`, CONSTRAINT `child_parent_fk` FOREIGN KEY …)"
      const constraint = /CONSTRAINT `([^`]+)`/.exec(message)?.[1];
      return constraint
        ? { kind: 'foreign_key_violation', constraint, retryable: false }
        : { kind: 'foreign_key_violation', retryable: false };
    }
    case 1048:
    case 1364:
      return { kind: 'not_null_violation', retryable: false };
    case 3819:
    case 4025: {
      // MySQL 8: "Check constraint 'qty_nonnegative' is violated."; MariaDB: "CONSTRAINT
      // `qty_nonnegative` failed for `db`.`t`". MySQL 8 uses 4025 for an unrelated DDL error.
      if (errno === 4025 && !/^CONSTRAINT /i.test(message)) break;
      const constraint = /constraint [`']?([^`' ]+)[`']?/i.exec(message)?.[1];
      return constraint
        ? { kind: 'check_violation', constraint, retryable: false }
        : { kind: 'check_violation', retryable: false };
    }
    case 1213:
      return { kind: 'deadlock', retryable: true };
    case 1205:
      return statement !== undefined && NOWAIT_STATEMENT.test(statement)
        ? { kind: 'lock_not_available', retryable: false }
        : { kind: 'lock_timeout', retryable: true };
    case 3572:
      return { kind: 'lock_not_available', retryable: false };
    case 1020:
      return { kind: 'serialization_failure', retryable: true };
    case 2006:
    case 2013:
    case 1927:
    case 1053:
    case 1152:
      return { kind: 'connection_lost', retryable: false };
  }
  if (error.fatal === true) return { kind: 'connection_lost', retryable: false };
  return { kind: 'other', retryable: false };
}
