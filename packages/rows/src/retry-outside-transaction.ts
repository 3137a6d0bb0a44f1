import { isTransient } from '@racefree/transactions';
import type { RowContext } from './context.js';

const AUTOCOMMIT_ATTEMPTS = 5;

/**
 * Outside a transaction every statement commits on its own, so a deadlock or serialization
 * failure has undone only that statement: re-running the helper is exact. Inside a
 * transaction the error propagates, for the caller's `atomic({ retries })` to re-run the whole.
 */
export async function retryOutsideTransaction<T>(
  ctx: RowContext,
  run: () => Promise<T>,
): Promise<T> {
  if (ctx.inTransaction) return run();
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt >= AUTOCOMMIT_ATTEMPTS || !isTransient(error)) throw error;
    }
  }
}
