import { isLockNotAvailable, isTransient, LockNotAvailableError } from '@racefree/transactions';
import type { RowContext } from './context.js';

/**
 * Runs a locking step. With `noWait`, the step runs contained — a savepoint on PostgreSQL, which
 * aborts the whole transaction on any error; InnoDB rolls back only the statement — so a held
 * row leaves the caller's transaction usable, and its failure is thrown as
 * `LockNotAvailableError` (never retried). Statements inside must go through the context `run`
 * is given: postgres.js remembers a failed statement of the outer handle until COMMIT.
 */
export async function withNoWait<T>(
  ctx: RowContext,
  noWait: boolean | undefined,
  run: (c: RowContext) => Promise<T>,
): Promise<T> {
  if (!noWait) return run(ctx);
  try {
    return await ctx.rows.contained(ctx, (db) => run({ ...ctx, db }));
  } catch (error) {
    throw asLockNotAvailable(error, ctx.meta.displayName);
  }
}

/**
 * A NOWAIT failure as `LockNotAvailableError`. MariaDB reports NOWAIT as a lock-wait timeout
 * (1205), which on its own would be retried; asked for NOWAIT, it means "held by someone".
 */
function asLockNotAvailable(error: unknown, table: string): unknown {
  if (
    isLockNotAvailable(error) ||
    (isTransient(error) &&
      /lock wait timeout/i.test(
        String((error as Error)?.message) + String((error as { cause?: Error })?.cause?.message),
      ))
  ) {
    return new LockNotAvailableError(
      `A row of ${table} is locked by another transaction (noWait).`,
      { cause: error },
    );
  }
  return error;
}
