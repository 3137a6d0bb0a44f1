import type { Database } from '@racefree/transactions';
import { type RowContext, rowContext, rowContextNow } from './context.js';
import { insertOrReadWinner, readByKey, type RowResult } from './find-or-insert.js';
import { conflictRate } from './conflict-rate.js';
import { type CreateValues, checkLookup, createValues, type Lookup } from './input.js';
import { checkMatches } from './resolve-key.js';
import { retryOutsideTransaction } from './retry-outside-transaction.js';
import type { AnyTable, UniqueKey } from './table-meta.js';

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
   * at most once, only when an insert is tried: after a read found nothing, or — with
   * `prefer: 'create'` — before the insert that finds out whether the row exists.
   */
  defaults?: DefaultsOf<T>;
  /**
   * `'get'` (default): read first — one statement when the row exists. `'create'`: insert
   * first — one statement when it does not (Rails' `create_or_find_by`), for create-heavy loads;
   * on PostgreSQL at READ COMMITTED also one when it does, once such calls are common for the key.
   */
  prefer?: 'get' | 'create';
  /** Allow a `where` no unique key covers. Concurrent callers may then create duplicates. Default `false`. */
  allowWithoutUniqueKey?: boolean;
}

/**
 * Returns the row matching `where`, creating it from `where` + `defaults` when there is none
 * (Django's `get_or_create`) — `{ row, created }`. Never creates a duplicate and never throws a
 * unique violation for the `where` key, however many callers race, inside or outside a
 * transaction, at READ COMMITTED or REPEATABLE READ, on PostgreSQL, MySQL and MariaDB.
 *
 * Why it is safe: the database's unique key decides the race. The insert that loses is told
 * so without an error escaping (PostgreSQL: `ON CONFLICT DO NOTHING` or a savepoint; MySQL:
 * the duplicate-key error undoes only the statement), and the winner's row is re-read with a
 * read that can see it (a locking read on MySQL). At PostgreSQL REPEATABLE READ, where the
 * winner's row is invisible to this transaction, it raises a retryable `SnapshotConflictError`.
 * A violation of any other constraint is thrown as is.
 *
 * Statements (PostgreSQL, READ COMMITTED): found 1; created 2; lost the race 3. With
 * `prefer: 'create'`: created 1; found 2 (INSERT … ON CONFLICT DO NOTHING, then SELECT), or 1
 * once about a fifth of the recent calls on the key found a row that existed before they ran
 * (one statement that inserts or else selects; 2 if the winner committed during it) — see
 * `conflictRate`.
 *
 * @example
 * const { row: tag, created } = await getOrCreate(db, tags, { where: { name: 'sql' }, defaults: { color: 'blue' } });
 */
export function getOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: GetOrCreateOptions<T>,
): Promise<RowResult<RowOf<T>>> {
  // Not an async function: returning the call's promise from one costs every call a promise
  // and two microtask turns more. Bad input still arrives as a rejection, never a throw.
  let lookup: Lookup;
  let values: () => CreateValues;
  let ctx: RowContext | undefined;
  try {
    lookup = checkLookup(table, options);
    values = createValues(lookup.meta, lookup.where, options.defaults);
    ctx = rowContextNow(db, lookup.meta, 'getOrCreate');
  } catch (error) {
    return Promise.reject(error);
  }
  const run = (c: RowContext) => findOrCreate(c, lookup, values, options.prefer);
  return (ctx ? run(ctx) : rowContext(db, lookup.meta, 'getOrCreate').then(run)) as Promise<
    RowResult<RowOf<T>>
  >;
}

/** A row getOrCreate found or created, before it is typed as the table's row. */
type Found = RowResult<Record<string, unknown>>;

/** getOrCreate once its input is checked and its context known. */
function findOrCreate(
  ctx: RowContext,
  lookup: Lookup,
  values: () => CreateValues,
  prefer: 'get' | 'create' | undefined,
): Promise<Found> {
  const { where, key } = lookup;
  if (prefer !== 'create') {
    // Read first, continuing in the statement's own `.then` (the retry included) rather than
    // in an async function: on a busy client every promise and suspended frame a call adds
    // costs more than its instructions (see docs/bench-log.md). A found row costs one promise
    // beyond the driver's; only a miss pays for the create's chain and its retry hook.
    return retryOutsideTransaction<Found>(ctx, (retry) =>
      readByKey<Found>(
        ctx,
        where,
        key,
        undefined,
        (row) => {
          if (row) return { row, created: false };
          return guard(create(ctx, where, key, values), retry);
        },
        retry,
      ),
    );
  }
  return retryOutsideTransaction<Found>(ctx, (retry) => {
    // Each call's outcome is noted once, just before it returns: a call that fails (and is
    // re-run outside a transaction, or rejects) teaches the estimate nothing.
    const learns = !key.unenforced && ctx.rows.insertOrSelect !== undefined;
    if (learns && conflictRate.common(key)) return insertOrSelect(ctx, lookup, values, retry);
    // Insert first, as a chain (see `insertOrReadWinner`): a create that wins costs the
    // INSERT's promise, one step after it and this one, which notes the outcome and hooks the
    // retry on.
    const created = create(ctx, where, key, values);
    return learns ? created.then(noteOutcome(key), retry) : guard(created, retry);
  });
}

/** Notes on `key` whether the bare insert created the row, and passes the result on. */
function noteOutcome(key: UniqueKey): (result: Found) => Found {
  return (result) => {
    conflictRate.note(key, result.created ? 'created' : 'taken');
    return result;
  };
}

/**
 * The key is commonly taken: one statement that inserts or else selects (one step after its
 * promise, which hooks `retry` on); a second, plain read when the winner committed during it;
 * the two-step create when the dialect cannot do it here.
 */
function insertOrSelect(
  ctx: RowContext,
  lookup: Lookup,
  values: () => CreateValues,
  retry: ((error: unknown) => Promise<Found>) | undefined,
): Promise<Found> {
  const given = values();
  return given instanceof Promise
    ? guard(
        given.then((row) => insertOrSelectRow(ctx, lookup, values, row, undefined)),
        retry,
      )
    : insertOrSelectRow(ctx, lookup, values, given, retry);
}

function insertOrSelectRow(
  ctx: RowContext,
  { meta, where, key }: Lookup,
  values: () => CreateValues,
  row: Record<string, unknown>,
  retry: ((error: unknown) => Promise<Found>) | undefined,
): Promise<Found> {
  const combined = ctx.rows.insertOrSelect?.(ctx, row, key);
  if (!combined) return guard(create(ctx, where, key, values).then(noteOutcome(key)), retry);
  return combined.then((found) => {
    if (found !== 'taken') {
      const checked = checkMatches(meta, where, key, found.row);
      conflictRate.note(key, found.created ? 'created' : 'existed');
      return { row: checked, created: found.created };
    }
    // Another caller's row committed while the insert waited for it: read it with a fresh
    // statement — two statements, like the hand-written floor, instead of a second insert.
    return guard(readWinnerOrCreate(ctx, where, key, values), retry);
  }, retry);
}

/** After `'taken'`: the winner's row, or (deleted meanwhile) the two-step create. */
async function readWinnerOrCreate(
  ctx: RowContext,
  where: Record<string, unknown>,
  key: UniqueKey,
  values: () => CreateValues,
): Promise<Found> {
  // Either way the combined statement saved nothing here: noted as a race.
  const row = await readByKey(ctx, where, key, undefined);
  if (row) {
    conflictRate.note(key, 'raced');
    return { row, created: false };
  }
  const result = await create(ctx, where, key, values);
  conflictRate.note(key, result.created ? 'created' : 'raced');
  return result;
}

/** `promise`, with `retry` (if any) hooked on its failure. */
function guard<T>(promise: Promise<T>, retry: ((error: unknown) => Promise<T>) | undefined) {
  return retry ? promise.catch(retry) : promise;
}

/** Insert, or read the row that won the key: without a lock, never `{ skipped }`. */
function create(
  ctx: RowContext,
  where: Record<string, unknown>,
  key: UniqueKey,
  values: () => CreateValues,
): Promise<Found> {
  return insertOrReadWinner(ctx, where, key, values, undefined) as Promise<Found>;
}
