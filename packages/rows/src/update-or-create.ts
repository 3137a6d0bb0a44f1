import {
  atomic,
  type Database,
  InvalidArgumentError,
  SnapshotConflictError,
} from '@racefree/transactions';
import { matching } from './conditions.js';
import { containedContext, type RowContext, rowContext } from './context.js';
import type { DefaultsOf, InsertOf, RowOf, WhereOf } from './get-or-create.js';
import { checkLookup, checkValues, createValues } from './input.js';
import { insertOrReadWinner, type RowResult } from './insert-or-read-winner.js';
import { keyIdentity } from './key-identity.js';
import { checkMatches } from './resolve-key.js';
import type { AnyTable } from './table-meta.js';

/** Options of `updateOrCreate`. */
export interface UpdateOrCreateOptions<T extends AnyTable> {
  /** Columns to match (equality); must cover a unique key of the table. */
  where: WhereOf<T>;
  /**
   * Values to write: applied to the existing row, or used with `where` to create one (`set`
   * wins on the columns both name). It must not change a column of the key `where` finds the
   * row by.
   */
  set: Partial<InsertOf<T>>;
  /** Extra values only for a created row; a function is called only when an insert is tried (the update found nothing). */
  createDefaults?: DefaultsOf<T>;
  /** Allow a `where` no unique key covers (may duplicate under concurrency). Default `false`. */
  allowWithoutUniqueKey?: boolean;
}

const OPTIONS = ['where', 'set', 'createDefaults', 'allowWithoutUniqueKey'] as const;
/** Re-runs of the transaction updateOrCreate opens itself, on a deadlock or serialization failure. */
const OWN_TRANSACTION_RETRIES = 5;

/**
 * Updates the row matching `where` with `set`, or creates it from `where` + `set` +
 * `createDefaults` (Django's `update_or_create`) — `{ row, created }`, the row locked until the
 * transaction ends. Opens its own transaction when none is active.
 *
 * Why it is safe: the UPDATE runs first and locks the row it changes, so two callers serialize
 * on the row lock instead of losing each other's update; a missing row is created through the
 * same insert-or-read-winner step as `getOrCreate` (a failed insert leaves the transaction
 * usable), and a caller that loses that race updates the winner's row. MySQL/MariaDB gap-lock
 * deadlocks between two creators are transient errors that the surrounding
 * `atomic({ retries })` absorbs (and, when this call opened the transaction itself, it retries
 * them).
 *
 * @example
 * const { row, created } = await updateOrCreate(db, settings, { where: { userId, name: 'theme' }, set: { value: 'dark' } });
 */
export async function updateOrCreate<T extends AnyTable>(
  db: Database,
  table: T,
  options: UpdateOrCreateOptions<T>,
): Promise<RowResult<RowOf<T>>> {
  const { meta, where, key } = checkLookup(table, options, 'updateOrCreate', OPTIONS);
  const set = checkValues(meta, options.set, 'set');
  // The row is found again by its key after the UPDATE (MySQL has no RETURNING) and a lost
  // create race is settled on it: a key `set` moves would lose the row.
  const fixed = new Set([...(meta.primaryKey?.keys ?? []), ...(key.unenforced ? [] : key.keys)]);
  for (const column of fixed)
    if (
      column in set &&
      !(column in where && keyIdentity(meta, [column], where) === keyIdentity(meta, [column], set))
    )
      throw new InvalidArgumentError(
        `updateOrCreate: set must not change ${column}, a column of the key that finds the row in ${meta.displayName}; put the value you look up by in where`,
      );
  // As Django's update_or_create: a created row gets `set` over `where`.
  const values = createValues(meta, { ...where, ...set }, options.createDefaults, 'createDefaults');
  const changed = { ...where, ...set };
  const byKey = Object.fromEntries(key.keys.map((k) => [k, where[k]]));
  const run = async (ctx: RowContext): Promise<RowResult<RowOf<T>>> => {
    // The rows are found again by their key after the UPDATE (MySQL has no RETURNING).
    const after = matching(ctx.meta, changed, key.keys);
    // The server matched every where column: the row is the one asked for, whatever `set`
    // changed and however the server compares (a collation, a uuid's case).
    const [updated] = await ctx.rows.update(
      ctx,
      matching(ctx.meta, where, Object.keys(where)),
      set,
      after,
    );
    if (updated) return { row: updated as RowOf<T>, created: false };
    // Missing: create it — or, when a concurrent caller created it first, lock the winner's row.
    const outcome = await insertOrReadWinner(ctx, byKey, key, values, { mode: 'update' });
    if (!('row' in outcome))
      throw new Error('updateOrCreate: a row was skipped without skipLocked');
    if (outcome.created) return outcome as RowResult<RowOf<T>>;
    // The winner's row is the one asked for if where's other columns match it — as they were,
    // or as a call like this one (its `set` over where) created it; else KeyMismatchError.
    checkMatches(meta, where, key, outcome.row, changed);
    const [row] = await ctx.rows.update(ctx, matching(ctx.meta, byKey, key.keys), set, after);
    if (!row)
      throw new SnapshotConflictError(
        `${meta.displayName}: the row was deleted under updateOrCreate; re-run it.`,
      );
    return { row: row as RowOf<T>, created: false };
  };
  const probe = await rowContext(db, meta, 'updateOrCreate');
  if (probe.inTransaction)
    // In the caller's transaction the whole call is contained (a savepoint on PostgreSQL): an
    // UPDATE that fails — a check `set` breaks — must leave the transaction usable too, and the
    // insert then needs no savepoint of its own.
    return probe.rows.contained(probe, (inner) => run(containedContext(probe, inner)));
  // Its own transaction, and on MySQL/MariaDB at READ COMMITTED: there an UPDATE that finds no
  // row takes no gap lock. At REPEATABLE READ every caller of a missing key locks the gap around
  // it — gaps that span neighbouring keys too — and each then needs that gap to insert: deadlock
  // storms that exhausted the retries with 64 callers on 5 keys. At READ COMMITTED the only
  // conflict left is between callers of the same key after its creator commits, and a retried
  // caller then finds the row. Nothing else runs in this transaction, so the level changes
  // nothing else: the UPDATE and the locking reads see the latest committed row at any level.
  const isolationLevel = probe.rows.ownTransactionIsolation;
  // Its own transaction: a failed insert ends it anyway, so no savepoint is taken for one.
  return atomic(
    db,
    async (tx) => run(await rowContext(tx, meta, 'updateOrCreate', { ownTransaction: true })),
    {
      retries: OWN_TRANSACTION_RETRIES,
      ...(isolationLevel ? { isolationLevel } : {}),
    },
  );
}
