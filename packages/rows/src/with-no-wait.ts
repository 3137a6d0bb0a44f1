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
    const { kind } = classifyError(error);
    // MySQL's and MariaDB's messages follow the server's language: the code tells, not the text.
    if (
      kind === 'lock_not_available' ||
      (kind === 'lock_timeout' && ctx.rows.noWaitTimeoutMeansHeld)
    )
      throw new LockNotAvailableError(
        `A row of ${ctx.meta.displayName} is locked by another transaction (noWait).`,
        { cause: error },
      );
    throw error;
  }
}
