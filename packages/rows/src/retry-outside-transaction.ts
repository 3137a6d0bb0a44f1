import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from '@racefree/transactions';
import {
  backoffDelay,
  type RetryPolicy,
  withConnectionTurn,
} from '@racefree/transactions/internal';
import type { RowContext } from './context.js';

/** Up to 5 attempts, each after a random wait below 2, 4, 8, 16 ms: enough to break lockstep. */
const AUTOCOMMIT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 2, maxDelayMs: 50 };

/**
 * Runs a helper's work; outside a transaction, re-runs it on a transient error. There every
 * statement commits on its own, so a deadlock or serialization failure has undone only that
 * statement: re-running is exact. Two callers that deadlocked each other would meet again if
 * both re-ran at once, so each waits a random moment first (full jitter). Inside a transaction
 * the error propagates, for the caller's `atomic({ retries })` to re-run the whole — and on a
 * database that holds one connection, work outside a transaction waits for the open one to
 * end instead of landing in it.
 */
export async function retryOutsideTransaction<T>(
  ctx: RowContext,
  work: () => Promise<T>,
): Promise<T> {
  if (ctx.inTransaction) return work();
  return withConnectionTurn(ctx.root, async () => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (attempt > AUTOCOMMIT_RETRY.retries || !isTransient(error)) throw error;
        await sleep(backoffDelay(AUTOCOMMIT_RETRY, attempt));
      }
    }
  });
}
