import { InvalidArgumentError } from '../errors.js';

/** The SQL isolation levels every supported server knows. */
export const ISOLATION_LEVELS = [
  'read uncommitted',
  'read committed',
  'repeatable read',
  'serializable',
] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** Row-lock strengths. `no key update` and `key share` exist on PostgreSQL only. */
export type LockMode = 'update' | 'share' | 'no key update' | 'key share';

/** What happened, in one taxonomy for postgres.js and mysql2 errors. */
export type ErrorKind =
  | 'unique_violation'
  | 'foreign_key_violation'
  | 'not_null_violation'
  | 'check_violation'
  | 'deadlock'
  | 'serialization_failure'
  | 'lock_timeout'
  | 'lock_not_available'
  | 'connection_lost'
  | 'other';

/** A driver error, classified. */
export interface ErrorClass {
  kind: ErrorKind;
  /** The violated constraint or index, when the server names it. */
  constraint?: string;
  /** True when re-running the whole transaction may succeed (deadlock, serialization failure, lock-wait timeout). */
  retryable: boolean;
}

export type DialectKind = 'postgres' | 'mysql' | 'mariadb';

/** Options of `Dialect.lockClause`. */
export interface LockClauseOptions {
  /** Fail at once (NOWAIT) instead of waiting for a row another transaction holds. */
  noWait?: boolean;
  /** Leave out rows another transaction holds (SKIP LOCKED). */
  skipLocked?: boolean;
  /** Lock only the rows of these tables of a join (`FOR UPDATE OF t`): PostgreSQL, MySQL 8. */
  of?: string | readonly string[];
}

/** The table names of `of`, refused when empty. */
export function lockedTables(of: LockClauseOptions['of']): readonly string[] | undefined {
  if (of === undefined) return undefined;
  const tables = typeof of === 'string' ? [of] : of;
  if (tables.length === 0 || tables.some((table) => typeof table !== 'string' || table === '')) {
    throw new InvalidArgumentError('lock option `of` needs one or more table names');
  }
  return tables;
}

/**
 * The text of a locking clause once the dialect has accepted the request:
 * ` <lock>[ OF t, …][ NOWAIT][ SKIP LOCKED]`, in the order every supported server reads it.
 */
export function renderLockClause(
  dialect: Pick<Dialect, 'quoteIdentifier'>,
  lock: string,
  of: readonly string[] | undefined,
  options: LockClauseOptions,
): string {
  const ofSql = of ? ` OF ${of.map((table) => dialect.quoteIdentifier(table)).join(', ')}` : '';
  return ` ${lock}${ofSql}${options.noWait ? ' NOWAIT' : ''}${options.skipLocked ? ' SKIP LOCKED' : ''}`;
}

export interface ServerVersion {
  major: number;
  minor: number;
  patch: number;
  /** The version string the server reported. */
  text: string;
}

/**
 * Everything that differs between PostgreSQL, MySQL and MariaDB, in one small object per kind.
 * Algorithms ask the dialect; they never branch on the kind themselves.
 */
export interface Dialect {
  kind: DialectKind;
  version: ServerVersion;
  /** The level a transaction gets when none is asked for. */
  defaultIsolationLevel: IsolationLevel;
  /** The lock modes this server has. */
  lockModes: readonly LockMode[];
  supportsNoWait: boolean;
  supportsSkipLocked: boolean;
  /** Whether `FOR UPDATE OF <table>` is accepted. */
  supportsLockOf: boolean;
  /**
   * Whether one statement can be an anonymous compound statement (`BEGIN NOT ATOMIC … END`, with
   * handlers and `@@in_transaction`): MariaDB 10.3+. MySQL runs compound statements only in
   * stored programs.
   */
  supportsAnonymousBlocks: boolean;
  /**
   * The locking clause for a SELECT, e.g. ` FOR SHARE SKIP LOCKED`, ` FOR UPDATE OF "books"` or
   * (MariaDB) ` LOCK IN SHARE MODE`. Throws `NotSupportedError` for what the server cannot do,
   * before any SQL is sent.
   */
  lockClause(mode: LockMode, options?: LockClauseOptions): string;
  /** Quotes an identifier for this server. */
  quoteIdentifier(name: string): string;
}

/** Parses "10.11.19-MariaDB-0+deb12u1", "8.0.36" or "150019" (server_version_num). */
export function parseVersion(text: string): ServerVersion {
  if (/^\d{5,6}$/.test(text)) {
    // server_version_num: 150019 is 15.19 (PostgreSQL 10 and later), 90624 is 9.6.24.
    const num = Number(text);
    return num >= 100000
      ? { major: Math.floor(num / 10000), minor: num % 10000, patch: 0, text }
      : {
          major: Math.floor(num / 10000),
          minor: Math.floor(num / 100) % 100,
          patch: num % 100,
          text,
        };
  }
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return {
    major: Number(match?.[1] ?? 0),
    minor: Number(match?.[2] ?? 0),
    patch: Number(match?.[3] ?? 0),
    text,
  };
}

/** True when `version` is at least `major.minor`. */
export function atLeast(version: ServerVersion, major: number, minor = 0): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}
