import { type Database, InvalidArgumentError } from '@racefree/transactions';
import { rowContext } from './context.js';
import { checkLookup, createValues } from './input.js';
import { insertOrReadWinner, type RowResult } from './insert-or-read-winner.js';
import { readByKey } from './read-by-key.js';
import { retryOutsideTransaction } from './retry-outside-transaction.js';
import type { AnyTable } from './table-meta.js';

/** Column values of a table's rows, as Drizzle selects them. */
export type RowOf<T extends AnyTable> = T['$inferSelect'];
/** Column values accepted when inserting into a table. */
export type InsertOf<T extends AnyTable> = T['$inferInsert'];
/** Equality conditions on a table's columns; used both to find and to create. */
export type WhereOf<T extends AnyTable> = Partial<RowOf<T>>;
/** Values to create with: an object, or a function called at most once per call, only when an insert is tried. */
export type DefaultsOf<T extends AnyTable> =
  | Partial<InsertOf<T>>
  | (() => Partial<InsertOf<T>> | Promise<Partial<InsertOf<T>>>);

/** Options of `getOrCreate`. */
export interface GetOrCreateOptions<T extends AnyTable> {
  /** Columns to match (equality). Must cover a primary key, unique constraint or unique index. */
  where: WhereOf<T>;
  /**
   * Extra values for a created row (`where` wins on the columns both name). A function is called
   * at most once, only when an insert is tried.
   */
  defaults?: DefaultsOf<T>;
  /**
   * `'get'` (default): read first — one statement when the row exists. `'create'`: insert
   * first — one statement when it does not (Rails' `create_or_find_by`), for create-heavy loads.
   */
  prefer?: 'get' | 'create';
  /** Allow a `where` no unique key covers. Concurrent callers may then create duplicates. Default `false`. */
  allowWithoutUniqueKey?: boolean;
}

const OPTIONS = ['where', 'defaults', 'prefer', 'allowWithoutUniqueKey'] as const;

/**
 * Returns the row matching `where`, creating it from `where` + `defaults` when there is none
 * (Django's `get_or_create`) — `{ row, created }`. Never creates a duplicate and never throws a
 * unique violation for the `where` key, however many callers race, inside or outside a
 * transaction, at READ COMMITTED or REPEATABLE READ, on PostgreSQL, MySQL and MariaDB.
 *
 * Why it is safe: the database's unique key decides the race. The insert that loses is told so
 * without an error (PostgreSQL: `ON CONFLICT (key) DO NOTHING`; MySQL: the duplicate-key error
 * undoes only that statement), and the winner's row is re-read with a read that can see it (a
 * locking read on MySQL). Any other failure of the insert — another unique key, a foreign key,
 * a check — is thrown as it is, and leaves the caller's transaction usable (the insert runs in
 * a savepoint inside a PostgreSQL transaction). At PostgreSQL REPEATABLE READ, a winner that
 * committed after this transaction's snapshot is a retryable serialization failure.
 *
 * @example
 * const { row: tag, created } = await getOrCreate(db, tags, { where: { name: 'sql' }, defaults: { color: 'blue' } });
 */
export async function getOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: GetOrCreateOptions<T>,
): Promise<RowResult<RowOf<T>>> {
  const { meta, where, key } = checkLookup(table, options, 'getOrCreate', OPTIONS);
  const prefer = options.prefer ?? 'get';
  if (prefer !== 'get' && prefer !== 'create')
    throw new InvalidArgumentError(
      `getOrCreate: prefer must be 'get' or 'create', got ${JSON.stringify(prefer)}`,
    );
  const values = createValues(meta, where, options.defaults);
  const ctx = await rowContext(db, meta, 'getOrCreate');
  return retryOutsideTransaction(ctx, async () => {
    if (prefer === 'get') {
      const found = await readByKey(ctx, where, key);
      if (found) return { row: found as RowOf<T>, created: false };
    }
    return (await insertOrReadWinner(ctx, where, key, values)) as RowResult<RowOf<T>>;
  });
}
