import type { Database } from '@racefree/transactions';
import { matching } from './conditions.js';
import { rowContext } from './context.js';
import type { DefaultsOf, RowOf, WhereOf } from './get-or-create.js';
import { checkLookup, createValues } from './input.js';
import { insertOrReadWinner, type RowResult } from './insert-or-read-winner.js';
import { readByKey } from './read-by-key.js';
import type { AnyTable } from './table-meta.js';
import { withNoWait } from './with-no-wait.js';

/** Options of `selectForUpdateOrCreate`. */
export interface SelectForUpdateOrCreateOptions<T extends AnyTable> {
  /** Columns to match (equality); must cover a unique key of the table. */
  where: WhereOf<T>;
  /** Extra values for a created row; a function is called only when an insert is tried (the read found nothing). */
  defaults?: DefaultsOf<T>;
  /**
   * Fail at once with `LockNotAvailableError` (never retried) if another transaction holds the
   * row. An INSERT cannot be NOWAIT: on MySQL/MariaDB one that waits (a gap lock, a key being
   * inserted) fails the same way at `innodb_lock_wait_timeout`; on PostgreSQL a key another
   * transaction is inserting is waited for — until it ends, or `lock_timeout` if you set one
   * (a retryable lock timeout). Default `false`.
   */
  noWait?: boolean;
  /**
   * Return `{ row: undefined, skipped: true }` instead of waiting when another transaction holds
   * the row. A key another transaction is still inserting is waited for (no row exists yet to
   * skip), and on MySQL/MariaDB at REPEATABLE READ so is a held row committed after this
   * transaction's snapshot. Default `false`.
   */
  skipLocked?: boolean;
  /** Allow a `where` no unique key covers (may duplicate under concurrency). Default `false`. */
  allowWithoutUniqueKey?: boolean;
}

/** The result of `selectForUpdateOrCreate` with `skipLocked`: the row was held by someone else. */
export interface SkippedRow {
  row: undefined;
  created: false;
  skipped: true;
}

const OPTIONS = ['where', 'defaults', 'noWait', 'skipLocked', 'allowWithoutUniqueKey'] as const;

/**
 * Returns the row matching `where`, locked `FOR UPDATE` until the transaction ends, creating it
 * when missing (Django's `select_for_update()` + `get_or_create`). Needs a transaction:
 * outside one, `TransactionRequiredError` (a lock that ends with its statement protects
 * nothing).
 *
 * Why it is safe: an existing row is locked by the first read; a missing one is inserted (the
 * new row is ours, invisible and locked until commit), and a caller that loses the insert race
 * waits on the winner's row lock and then gets that row, locked. A failed insert leaves the
 * transaction usable, as in `getOrCreate`. On MySQL/MariaDB at REPEATABLE READ, two callers
 * that both found the key missing hold gap locks that can deadlock each other on insert: a
 * transient error that `atomic(db, fn, { retries })` absorbs by re-running the whole transaction.
 *
 * @example
 * await atomic(db, async (tx) => {
 *   const { row: stock } = await selectForUpdateOrCreate(tx, inventory, { where: { sku }, defaults: { quantity: 0 } });
 *   await tx.update(inventory).set({ quantity: stock.quantity + 1 }).where(eq(inventory.sku, sku));
 * }, { retries: 3 });
 */
export async function selectForUpdateOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: SelectForUpdateOrCreateOptions<T> & { skipLocked: true },
): Promise<RowResult<RowOf<T>> | SkippedRow>;
export async function selectForUpdateOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: SelectForUpdateOrCreateOptions<T>,
): Promise<RowResult<RowOf<T>>>;
export async function selectForUpdateOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: SelectForUpdateOrCreateOptions<T>,
): Promise<RowResult<RowOf<T>> | SkippedRow> {
  const operation = 'selectForUpdateOrCreate';
  const { meta, where, key } = checkLookup(table, options, operation, OPTIONS, [
    'noWait',
    'skipLocked',
  ]);
  const values = createValues(meta, where, options.defaults);
  const ctx = await rowContext(db, meta, operation, { requireTransaction: true });
  const lock = { mode: 'update' as const, noWait: options.noWait, skipLocked: options.skipLocked };
  // Refuses before any SQL what the server cannot do (SKIP LOCKED before MariaDB 10.6, …).
  ctx.dialect.lockClause(lock.mode, lock);
  return withNoWait(ctx, options.noWait, async (c) => {
    const row = await readByKey(c, where, key, lock);
    if (row) return { row: row as RowOf<T>, created: false };
    if (lock.skipLocked && c.rows.insertWaitsForLockedRow) {
      // Not returned by SKIP LOCKED: held by someone, or missing. An insert would wait for the
      // holder (InnoDB), so a plain read tells the two apart first.
      const matches = matching(c.meta, where, key.keys);
      const held = await c.rows.select(c, { where: matches, columns: key.keys, limit: 1 });
      if (held.length > 0) return { row: undefined, created: false, skipped: true };
    }
    const outcome = await insertOrReadWinner(c, where, key, values, lock);
    if ('skipped' in outcome) return { row: undefined, created: false, skipped: true };
    return outcome as RowResult<RowOf<T>>;
  });
}
