import type { Database, IsolationLevel } from '@racefree/transactions';
import type { SQL } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import type { UniqueKey } from '../table-meta.js';

/** The outcome of an insert that must not fail because its key is taken. */
export type InsertOutcome =
  | { row: Record<string, unknown> }
  /**
   * The key is taken. `certain`: the server named this key; otherwise it named no key racefree
   * knows, and the caller must rethrow `error` if the re-read does not find the row.
   */
  | { conflict: 'certain' | 'unknown'; error?: unknown };

/**
 * How each server does the steps the row helpers share. The helpers read as one story and
 * ask this object wherever PostgreSQL, MySQL and MariaDB differ.
 */
export interface RowsDialect {
  /**
   * Inserts one row and returns it, or reports that `key` is already taken — without throwing
   * for that key and without dooming the caller's transaction. A violation of any other
   * constraint is thrown.
   */
  insertUnlessTaken(
    ctx: RowContext,
    values: Record<string, unknown>,
    key: UniqueKey,
  ): Promise<InsertOutcome>;
  /**
   * One statement that inserts or else returns the existing row, where the server can do that
   * exactly (PostgreSQL at READ COMMITTED). `undefined` (not a promise), with no statement
   * sent, when it is not exact at this isolation level. Resolves with `'taken'` when the key's
   * row committed too late for the statement's snapshot (it waited for that row's inserter): a
   * new statement's snapshot sees it, unless it was deleted meanwhile. May throw before any
   * statement is sent (a column default function that throws).
   */
  insertOrSelect?(
    ctx: RowContext,
    values: Record<string, unknown>,
    key: UniqueKey,
  ): Promise<{ row: Record<string, unknown>; created: boolean } | 'taken'> | undefined;
  /**
   * The lock the re-read after a conflict needs to see the winner's row. MySQL at REPEATABLE
   * READ answers a plain SELECT from the transaction's old snapshot; a locking read sees the
   * latest committed row.
   */
  conflictReadLock: 'share' | undefined;
  /**
   * True when a row another transaction committed can stay invisible to this one (PostgreSQL
   * REPEATABLE READ / SERIALIZABLE): a conflict whose row cannot be read is then a
   * serialization failure, never a "not found".
   */
  snapshotHidesCommits(isolationLevel: IsolationLevel): boolean;
  /**
   * True when rows found by a `where` lookup must be locked through their primary keys in a
   * second statement: InnoDB locks rows in the order the chosen index returns them, so only a
   * primary-key lookup locks in primary-key order. PostgreSQL sorts before it locks.
   */
  lockWhereByPrimaryKey: boolean;
  /**
   * True when, under `noWait`, a lock-wait timeout means "held by someone" and is raised as
   * `LockNotAvailableError`. InnoDB: MariaDB reports NOWAIT itself as error 1205, and an INSERT,
   * which cannot be NOWAIT, waits on another transaction's gap or record lock for up to
   * `innodb_lock_wait_timeout` (50 s by default). PostgreSQL: false — `lock_timeout` (off by
   * default) is the caller's own limit, for every lock of the transaction, table locks
   * included, and stays a retryable lock timeout.
   */
  noWaitTimeoutMeansHeld: boolean;
  /**
   * The isolation level `updateOrCreate` asks for when it opens its own transaction; `undefined`
   * keeps the server's default. MySQL/MariaDB: READ COMMITTED, where an UPDATE that finds no row
   * takes no gap lock (see `updateOrCreate`).
   */
  ownTransactionIsolation: IsolationLevel | undefined;
  /**
   * `UPDATE … SET set WHERE` each column of `where` equals its value, returning the updated
   * rows (the lock is held from here on).
   */
  updateReturning(
    ctx: RowContext,
    where: Record<string, unknown>,
    set: Record<string, unknown>,
  ): Promise<Record<string, unknown>[]>;
  /**
   * Runs `run` with lock waits limited to `timeoutMs`, restoring the previous limit afterwards,
   * on success and on failure. `prefix` goes in front of the one locking statement (MariaDB's
   * `SET STATEMENT … FOR`).
   */
  withLockTimeout<T>(
    ctx: RowContext,
    timeoutMs: number,
    run: (db: Database, prefix: SQL | undefined) => Promise<T>,
  ): Promise<T>;
  /**
   * Runs a statement that may fail on a lock (NOWAIT) so that the failure does not doom the
   * caller's transaction: PostgreSQL aborts the whole transaction on any error, so it needs a
   * savepoint; InnoDB rolls back only the statement.
   */
  contained<T>(ctx: RowContext, run: (db: Database) => Promise<T>): Promise<T>;
}
