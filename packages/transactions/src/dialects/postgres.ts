import { NotSupportedError } from '../errors.js';
import {
  type Dialect,
  type ErrorClass,
  type IsolationLevel,
  type LockMode,
  lockedTables,
  renderLockClause,
  type ServerVersion,
} from './dialect.js';

const LOCK_SQL: Record<LockMode, string> = {
  update: 'FOR UPDATE',
  share: 'FOR SHARE',
  'no key update': 'FOR NO KEY UPDATE',
  'key share': 'FOR KEY SHARE',
};

/** PostgreSQL: every lock mode, NOWAIT, SKIP LOCKED and OF (all there since 9.5). */
export function postgresDialect(
  version: ServerVersion,
  defaultIsolationLevel: IsolationLevel,
): Dialect {
  return {
    kind: 'postgres',
    version,
    defaultIsolationLevel,
    lockModes: ['update', 'share', 'no key update', 'key share'],
    supportsNoWait: true,
    supportsSkipLocked: true,
    supportsLockOf: true,
    supportsAnonymousBlocks: false,
    lockClause(mode, options = {}) {
      const clause = LOCK_SQL[mode];
      if (!clause) throw new NotSupportedError(`Unknown lock mode ${JSON.stringify(mode)}`);
      if (options.noWait && options.skipLocked)
        throw new NotSupportedError('noWait and skipLocked cannot be combined');
      return renderLockClause(this, clause, lockedTables(options.of), options);
    },
    quoteIdentifier: (name) => `"${name.replaceAll('"', '""')}"`,
  };
}

/** SQLSTATEs of a lost connection: class 08, and the server shutting this backend down. */
const CONNECTION_LOST_STATES = new Set(['57P01', '57P02', '57P03']);
/**
 * The drivers' own codes for a connection that went away under a query: postgres.js' and
 * Node's socket errors (node-postgres passes those through).
 */
const DRIVER_CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ETIMEDOUT',
]);

/**
 * node-postgres says a connection is gone in plain errors without a code: "Connection
 * terminated unexpectedly", "Connection terminated", and, for the next query on it, "Client
 * has encountered a connection error and is not queryable" or "Client was closed and is not
 * queryable". Its messages are the only witness.
 */
const NODE_POSTGRES_CONNECTION_LOST =
  /^(Connection terminated\b|Client (has encountered a connection error|was closed) and is not queryable)/;

/**
 * Classifies a postgres.js `PostgresError` or node-postgres `DatabaseError` by SQLSTATE, and
 * either driver's lost-connection errors. 55P03 is both a NOWAIT failure and a `lock_timeout`
 * expiry; only the latter is worth a retry, and the message is the only thing that tells them
 * apart.
 */
export function classifyPostgresError(error: {
  code?: unknown;
  message?: unknown;
  constraint_name?: unknown;
  constraint?: unknown;
}): ErrorClass | undefined {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (!code) {
    return typeof error.message === 'string' && NODE_POSTGRES_CONNECTION_LOST.test(error.message)
      ? { kind: 'connection_lost', retryable: false }
      : undefined;
  }
  if (DRIVER_CONNECTION_CODES.has(code)) return { kind: 'connection_lost', retryable: false };
  if (!/^[0-9A-Z]{5}$/.test(code)) return undefined;
  const constraint =
    typeof error.constraint_name === 'string'
      ? error.constraint_name
      : typeof error.constraint === 'string'
        ? error.constraint
        : undefined;
  const withConstraint = (kind: ErrorClass['kind']): ErrorClass =>
    constraint ? { kind, constraint, retryable: false } : { kind, retryable: false };
  switch (code) {
    case '23505':
      return withConstraint('unique_violation');
    case '23503':
      return withConstraint('foreign_key_violation');
    case '23502':
      return withConstraint('not_null_violation');
    case '23514':
      return withConstraint('check_violation');
    case '40P01':
      return { kind: 'deadlock', retryable: true };
    case '40001':
      return { kind: 'serialization_failure', retryable: true };
    case '55P03':
      return /lock timeout/i.test(String(error.message ?? ''))
        ? { kind: 'lock_timeout', retryable: true }
        : { kind: 'lock_not_available', retryable: false };
  }
  if (code.startsWith('08') || CONNECTION_LOST_STATES.has(code))
    return { kind: 'connection_lost', retryable: false };
  return { kind: 'other', retryable: false };
}
