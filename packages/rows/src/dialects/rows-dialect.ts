import type { Database, IsolationLevel, LockMode } from '@racefree/transactions';
import type { Column, SQL } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import type { AnyTable, UniqueKey } from '../table-meta.js';

/** One of Drizzle's query builders: run as it is, or prepared once (`.prepare()`). */
export interface PreparableQuery extends PromiseLike<unknown> {
  prepare(name?: string): { execute(values?: Record<string, unknown>): Promise<unknown> };
}

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
 * A batch insert: the rows it wrote (a key already taken is simply absent). `unknownConflict`:
 * a duplicate-key error naming an index racefree does not know — the caller rethrows it unless
 * the rows it could not write turn up when it reads them.
 */
export interface InsertManyOutcome {
  rows: Row[];
  /**
   * Rows of keys another caller had taken, read on the way (InnoDB: see `insertMany`), each with
   * the index in `rows` of the values whose key it holds.
   */
  found?: ReadonlyArray<readonly [index: number, row: Row]>;
  unknownConflict?: unknown;
}

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
  /**
   * Drizzle's builder for the insert `insertUnlessTaken` sends on `db` (and, given many rows,
   * PostgreSQL's `insertMany` on its plain path): `values` are values, or placeholders for the
   * statement cache to prepare. PostgreSQL `INSERT … ON CONFLICT (key) DO
   * NOTHING RETURNING` (without ON CONFLICT for a key no constraint enforces); MySQL a plain
   * INSERT, whose duplicate-key error the caller classifies.
   */
  insertQuery(db: Database, table: AnyTable, values: Row | Row[], key: UniqueKey): PreparableQuery;
  /**
   * True when a batch is inserted before anything is read: PostgreSQL's one statement reports
   * the taken keys row by row. InnoDB inserts row by row (see `insertMany`), so what exists is
   * read first and only the rest inserted.
   */
  insertsManyFirst: boolean;
  /**
   * Inserts `rows`, in the order given, and returns those it wrote; a row whose key is taken is
   * left out, never thrown. PostgreSQL: one `INSERT … ON CONFLICT (key) DO NOTHING RETURNING`.
   * InnoDB: one INSERT per row (on MariaDB all in one compound statement, see `insertBlock`),
   * then one read of the rows written — a multi-row INSERT that meets another caller's row fails
   * whole, and the rows it had written and rolls back are rows other callers are waiting on:
   * they all get their shared lock at once and deadlock on the insert.
   * A key found taken is read there and then, with the locking read that sees the winner's row
   * (`found`): every lock a caller takes is then on a key at or below the one it is at, in the
   * order all callers share, so no two callers can each wait for the other.
   * Like `insertUnlessTaken`, any other failure is thrown and leaves the caller's transaction
   * usable. Every statement runs through `each` (outside a transaction, it re-runs one that
   * failed on a deadlock: the statement, not the whole batch, whose earlier rows did commit).
   */
  insertMany(
    ctx: RowContext,
    rows: readonly Row[],
    key: UniqueKey,
    each: <R>(statement: () => Promise<R>) => Promise<R>,
  ): Promise<InsertManyOutcome>;
  /**
   * Reads the rows whose `key` columns equal those of one of `wanted`, under `lock` if given.
   * PostgreSQL sends the keys as one parameter where it can (see `recordSetStatements`).
   */
  selectByKeys(
    ctx: RowContext,
    key: UniqueKey,
    wanted: readonly Row[],
    lock: RowLock | undefined,
  ): Promise<Row[]>;
  /**
   * `UPDATE … SET set WHERE where`, returning the rows it changed (locked from then on). `after`
   * finds them once changed, where there is no RETURNING (MySQL): by their key, which `set`
   * does not move.
   */
  update(ctx: RowContext, where: SQL, set: Row, after: SQL): Promise<Row[]>;
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
   * True when inserting a key whose row another transaction holds locked waits for that lock:
   * InnoDB checks a duplicate key under a shared lock on the existing row. PostgreSQL's
   * `ON CONFLICT DO NOTHING` passes a committed row by without locking it. Under `skipLocked`,
   * a key the SKIP LOCKED read did not return is then first looked for with a plain read.
   */
  insertWaitsForLockedRow: boolean;
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
