import { SnapshotConflictError } from '@racefree/transactions';
import type { RowContext } from './context.js';
import type { Row, RowLock } from './dialects/rows-dialect.js';
import { readByKey } from './read-by-key.js';
import type { UniqueKey } from './table-meta.js';

/** A row found or created, and which. */
export interface RowResult<R> {
  row: R;
  created: boolean;
}

/** How many times the insert is tried when the key's row vanishes between conflict and re-read. */
const ROUNDS = 3;

/**
 * The create step getOrCreate, selectForUpdateOrCreate and updateOrCreate share: insert; if
 * the key is taken, read the winner's row — with `lock`, or with the lock the dialect needs to
 * see a row committed after this transaction's snapshot (MySQL). When the key is taken but no
 * row can be read: at PostgreSQL REPEATABLE READ it is outside our snapshot, a serialization
 * failure for `atomic({ retries })` (never a false "not found"); elsewhere it was deleted
 * meanwhile, and the insert is tried again. With `skipLocked`, a winner's row another
 * transaction holds answers `{ skipped: true }`.
 */
export async function insertOrReadWinner(
  ctx: RowContext,
  where: Row,
  key: UniqueKey,
  values: () => Promise<Row>,
  lock?: RowLock,
): Promise<RowResult<Row> | { skipped: true }> {
  const readLock = lock ?? ctx.rows.conflictReadLock;
  for (let round = 1; round <= ROUNDS; round++) {
    const inserted = await ctx.rows.insertUnlessTaken(ctx, await values(), key);
    if ('row' in inserted) return { row: inserted.row, created: true };
    const winner = await readByKey(ctx, where, key, readLock);
    if (winner) return { row: winner, created: false };
    if (lock?.skipLocked) return { skipped: true };
    // The server named no key racefree knows, and no row has ours: the error was not ours.
    if (inserted.error !== undefined) throw inserted.error;
    if (ctx.rows.snapshotHidesCommits(ctx.isolationLevel))
      throw new SnapshotConflictError(
        `${ctx.meta.displayName}: another transaction committed a row with this key after this transaction's snapshot was taken (${ctx.isolationLevel}); re-run the whole transaction (atomic(db, fn, { retries })).`,
      );
  }
  throw new SnapshotConflictError(
    `${ctx.meta.displayName}: the row with this key was deleted and re-created ${ROUNDS} times while this call ran; re-run it.`,
  );
}
