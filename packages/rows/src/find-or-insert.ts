import { type LockMode, MultipleRowsError, SnapshotConflictError } from '@racefree/transactions';
import type { RowContext } from './context.js';
import { keyVariant, ShapeCache, shapeOf } from './render-statement.js';
import { checkMatches } from './resolve-key.js';
import { equalsAll, queryStatement, selectSql } from './row-sql.js';
import type { InsertOutcome } from './dialects/rows-dialect.js';
import type { CreateValues } from './input.js';
import type { UniqueKey } from './table-meta.js';

/** A row found or created, and which. */
export interface RowResult<Row> {
  row: Row;
  created: boolean;
}

const selectShapes = new ShapeCache();

/** `readByKey`'s shape, kept per key and lock clause (see `keyVariant`). */
function selectShape(where: Record<string, unknown>, key: UniqueKey, lockClause: string): string {
  return selectShapes.of(
    key,
    keyVariant(where, key, lockClause),
    () => `select-by-key|${shapeOf(where, key.keys)}|${lockClause}`,
  );
}

/** How many times the insert is tried when the key's row vanishes between conflict and re-read. */
const CONFLICT_ROUNDS = 3;

/**
 * Reads the row by `key` (with `lock`, if any), checks the other `where` columns, and returns it;
 * `undefined` when there is none. Two rows on a unique key cannot happen; on the opt-out path
 * (no unique key) they can, and that is an error, not a pick. With `then`, resolves with
 * `then(row)` instead, and with `recover`, a failed read with `recover(error)`: both run in
 * the statement's own `.then`, so a caller that continues from the row adds no promise.
 */
export function readByKey<R = Record<string, unknown> | undefined>(
  ctx: RowContext,
  where: Record<string, unknown>,
  key: UniqueKey,
  lockClause: string | undefined,
  then?: (row: Record<string, unknown> | undefined) => R | PromiseLike<R>,
  recover?: (error: Error) => R | PromiseLike<R>,
): Promise<R> {
  return queryStatement(
    ctx.db,
    ctx.meta,
    selectShape(where, key, lockClause ?? ''),
    where,
    (param) =>
      selectSql(ctx.meta, equalsAll(ctx.meta, where, key.keys, param), { lockClause, limit: 2 }),
    (rows) => {
      if (rows.length > 1)
        throw new MultipleRowsError(ctx.meta.displayName, pick(where, key.keys), rows.length);
      const row = rows[0] && checkMatches(ctx.meta, where, key, rows[0]);
      return then ? then(row) : (row as R);
    },
    recover,
  );
}

/**
 * The create half shared by getOrCreate, selectForUpdateOrCreate and updateOrCreate: insert; if the key is
 * taken, read the winner's row (with `lock`, or the dialect's conflict lock so MySQL sees past
 * its snapshot). If the key is taken but the row cannot be read: at PostgreSQL REPEATABLE READ
 * it is outside our snapshot — a serialization failure for `atomic({ retries })`, never a false
 * "not found"; elsewhere it was deleted meanwhile, and the insert is tried again.
 *
 * A promise chain, not an async function: a create that wins costs the INSERT's promise and
 * one step after it (one more when `defaults` is a function); only a conflict pays for the
 * async re-read (see `afterConflict`).
 */
export function insertOrReadWinner(
  ctx: RowContext,
  where: Record<string, unknown>,
  key: UniqueKey,
  values: () => CreateValues,
  lock: { mode: LockMode; noWait?: boolean; skipLocked?: boolean } | undefined,
): Promise<RowResult<Record<string, unknown>> | { skipped: true }> {
  try {
    const readLock =
      lock ?? (ctx.rows.conflictReadLock ? { mode: ctx.rows.conflictReadLock } : undefined);
    // Before any SQL: a lock the server cannot take is refused up front (NotSupportedError).
    const lockClause = readLock ? ctx.dialect.lockClause(readLock.mode, readLock) : undefined;
    const given = values();
    if (given instanceof Promise)
      return given.then((row) => insertRound({ ctx, where, key, lock, lockClause, row }, 1));
    return insertRound({ ctx, where, key, lock, lockClause, row: given }, 1);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What every round of `insertOrReadWinner` works from. */
interface Attempt {
  ctx: RowContext;
  where: Record<string, unknown>;
  key: UniqueKey;
  lock: { mode: LockMode; noWait?: boolean; skipLocked?: boolean } | undefined;
  lockClause: string | undefined;
  row: Record<string, unknown>;
}

function insertRound(
  attempt: Attempt,
  round: number,
): Promise<RowResult<Record<string, unknown>> | { skipped: true }> {
  return attempt.ctx.rows
    .insertUnlessTaken(attempt.ctx, attempt.row, attempt.key)
    .then((outcome) =>
      'row' in outcome
        ? { row: outcome.row, created: true }
        : afterConflict(attempt, outcome, round),
    );
}

/** The key was taken: the winner's row, or why there is none (see `insertOrReadWinner`). */
async function afterConflict(
  attempt: Attempt,
  outcome: Exclude<InsertOutcome, { row: unknown }>,
  round: number,
): Promise<RowResult<Record<string, unknown>> | { skipped: true }> {
  const { ctx, where, key, lock, lockClause } = attempt;
  const winner = await readByKey(ctx, where, key, lockClause);
  if (winner) return { row: winner, created: false };
  if (lock?.skipLocked) return { skipped: true };
  if (outcome.conflict === 'unknown') throw outcome.error;
  if (ctx.rows.snapshotHidesCommits(ctx.isolationLevel)) {
    throw new SnapshotConflictError(
      `${ctx.meta.displayName}: another transaction committed a row with this key after this transaction's snapshot was taken (${ctx.isolationLevel}); re-run the whole transaction (atomic(db, fn, { retries })).`,
    );
  }
  if (round < CONFLICT_ROUNDS) return insertRound(attempt, round + 1);
  throw new SnapshotConflictError(
    `${ctx.meta.displayName}: the row with this key was deleted and re-created ${CONFLICT_ROUNDS} times while this call ran; re-run it.`,
  );
}

function pick(values: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, values[k]]));
}
