import { type Database, InvalidArgumentError, RowNotFoundError } from '@racefree/transactions';
import { matching } from './conditions.js';
import { rowContext } from './context.js';
import type { RowOf } from './get-or-create.js';
import { checkOptions } from './input.js';
import { requirePrimaryKey } from './resolve-key.js';
import { retryOutsideTransaction } from './retry-outside-transaction.js';
import { type AnyTable, tableMeta } from './table-meta.js';

/** Options of `refresh`. */
export interface RefreshOptions<T extends AnyTable> {
  /** Lock the row until the transaction ends: `'update'` or `'share'`. Needs a transaction. Default: no lock. */
  lock?: 'update' | 'share';
  /** Reload only these columns (the rest of `row` is kept as given). Default: all columns. */
  columns?: ReadonlyArray<keyof RowOf<T> & string>;
}

/**
 * Returns the row as the database has it now, found by its primary key (Django's
 * `refresh_from_db`). Use it before writing back a row held across a slow call, so the write
 * starts from current data; with `lock: 'update'` no one can change it until you commit.
 * `lock: 'share'` is `FOR SHARE` on PostgreSQL and MySQL 8, `LOCK IN SHARE MODE` on MariaDB.
 * A deleted row raises `RowNotFoundError`.
 *
 * @example
 * await atomic(db, async (tx) => {
 *   const fresh = await refresh(tx, books, staleBook, { lock: 'update' });
 *   await tx.update(books).set({ quantity: fresh.quantity - 1 }).where(eq(books.id, fresh.id));
 * });
 */
export async function refresh<T extends AnyTable>(
  db: Database,
  table: T,
  row: RowOf<T>,
  options: RefreshOptions<T> = {},
): Promise<RowOf<T>> {
  const meta = tableMeta(table);
  checkOptions(options, 'refresh', ['lock', 'columns']);
  const pk = requirePrimaryKey(meta, 'refresh');
  if (row === null || typeof row !== 'object')
    throw new InvalidArgumentError('refresh needs the row object to reload');
  const key: Record<string, unknown> = {};
  for (const k of pk.keys) {
    const value = (row as Record<string, unknown>)[k];
    if (value === undefined || value === null)
      throw new InvalidArgumentError(`refresh: the row has no value for primary-key column ${k}`);
    key[k] = value;
  }
  if (options.columns !== undefined && !Array.isArray(options.columns))
    throw new InvalidArgumentError('refresh: columns must be an array of column names');
  const columns = options.columns?.map(String);
  for (const c of columns ?? [])
    if (!meta.columns.has(c))
      throw new InvalidArgumentError(`refresh: ${c} is not a column of ${meta.displayName}`);
  if (options.lock !== undefined && options.lock !== 'update' && options.lock !== 'share')
    throw new InvalidArgumentError(
      `refresh: lock must be 'update' or 'share', got ${JSON.stringify(options.lock)}`,
    );
  const ctx = await rowContext(db, meta, 'refresh', {
    requireTransaction: options.lock !== undefined,
  });
  // Outside a transaction, on a database that holds one connection, the read waits for the
  // transaction open on it instead of answering from inside it.
  const [fresh] = await retryOutsideTransaction(ctx, () =>
    ctx.rows.select(ctx, {
      where: matching(meta, key, pk.keys),
      columns,
      lock: options.lock ? { mode: options.lock } : undefined,
    }),
  );
  if (!fresh) throw new RowNotFoundError(meta.displayName, key);
  return (columns ? { ...row, ...fresh } : fresh) as RowOf<T>;
}
