import { classifyError, LockNotAvailableError } from '@racefree/transactions';
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
 * A NOWAIT failure as `LockNotAvailableError`, told by the error's code (its text follows the
 * server's language). Two more failures mean the same when noWait was asked for, and would
 * otherwise be retried as lock-wait timeouts: MariaDB reports NOWAIT itself as error 1205, and
 * an INSERT, which cannot be NOWAIT, waits for another transaction inserting the same key up
 * to the server's limit (`innodb_lock_wait_timeout`, PostgreSQL's `lock_timeout`).
 */
function asLockNotAvailable(error: unknown, table: string): unknown {
  const { kind } = classifyError(error);
  if (kind !== 'lock_not_available' && kind !== 'lock_timeout') return error;
  return new LockNotAvailableError(`A row of ${table} is locked by another transaction (noWait).`, {
    cause: error,
  });
}
