import type { Database, IsolationLevel, LockMode } from '@racefree/transactions';
import type { Column, SQL } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import type { UniqueKey } from '../table-meta.js';

/** A row as the helpers return it: property keys, JavaScript values. */
export type Row = Record<string, unknown>;

/** A row lock a read asks for. */
export interface RowLock {
  mode: LockMode;
  noWait?: boolean | undefined;
  skipLocked?: boolean | undefined;
}

/** What a read selects. */
export interface SelectRequest {
  where: SQL;
  lock?: RowLock | undefined;
  /** Only these columns (property keys); default all. */
  columns?: readonly string[] | undefined;
  orderBy?: readonly Column[] | undefined;
  limit?: number | undefined;
  /** MariaDB's `SET STATEMENT … FOR`, in front of the one statement it scopes (see `withLockTimeout`). */
  prefix?: SQL | undefined;
}

/** An insert that must not fail because its key is taken. */
export type InsertOutcome =
  | { row: Row }
  /**
   * The key is taken (or the new row is already gone again). With `error`: the server named no
   * key racefree knows, so the caller rethrows it unless a row with the key turns up.
   */
  | { taken: true; error?: unknown };

/**
 * Everything the row helpers do differently on PostgreSQL and on MySQL/MariaDB, in one small
 * object per family. The helpers read as one story and ask it only where the servers differ.
 */
export interface RowsDialect {
  /** Reads rows, mapped to the table's property keys and JavaScript values. */
  select(ctx: RowContext, request: SelectRequest): Promise<Row[]>;
  /**
   * Inserts one row and returns it, or reports that `key` is taken — without throwing for that
   * key. Any other failure is thrown, and leaves the caller's transaction usable (Django's
   * ticket #20463): on PostgreSQL, where any error aborts the whole transaction, the insert
   * runs in a savepoint inside one; InnoDB rolls back only the failed statement.
   */
  insertUnlessTaken(ctx: RowContext, values: Row, key: UniqueKey): Promise<InsertOutcome>;
  /** `UPDATE … SET set WHERE where`, returning the rows it changed (locked from then on). */
  update(ctx: RowContext, where: SQL, set: Row): Promise<Row[]>;
  /**
   * The lock the re-read after a conflict needs to see the winner's row. MySQL at REPEATABLE
   * READ answers a plain SELECT from the transaction's old snapshot; a locking read sees the
   * latest committed row.
   */
  conflictReadLock: RowLock | undefined;
  /**
   * True when a row another transaction committed can stay invisible to this one (PostgreSQL
   * REPEATABLE READ / SERIALIZABLE): a taken key whose row cannot be read is then a
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
   * True when, under `noWait`, a lock-wait timeout means "held by someone": InnoDB, where
   * MariaDB reports NOWAIT itself as error 1205 and an INSERT (which cannot be NOWAIT) waits
   * on another transaction's gap or record lock for up to `innodb_lock_wait_timeout`.
   * PostgreSQL's `lock_timeout` is the caller's own limit and stays a retryable timeout.
   */
  noWaitTimeoutMeansHeld: boolean;
  /**
   * The isolation level `updateOrCreate` asks for when it opens its own transaction; `undefined`
   * keeps the server's. MySQL/MariaDB: READ COMMITTED, where an UPDATE that finds no row takes
   * no gap lock.
   */
  ownTransactionIsolation: IsolationLevel | undefined;
  /**
   * Runs `run` with lock waits limited to `timeoutMs`, the previous limit back afterwards, on
   * success and on failure. `prefix` goes in front of the one locking statement (MariaDB).
   */
  withLockTimeout<T>(
    ctx: RowContext,
    timeoutMs: number,
    run: (db: Database, prefix: SQL | undefined) => Promise<T>,
  ): Promise<T>;
  /**
   * Runs a step that may fail on a lock (NOWAIT) so that its failure leaves the caller's
   * transaction usable: a savepoint on PostgreSQL; InnoDB rolls back only the statement.
   */
  contained<T>(ctx: RowContext, run: (db: Database) => Promise<T>): Promise<T>;
}
