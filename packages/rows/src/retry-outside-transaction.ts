import { setTimeout as sleep } from 'node:timers/promises';
import { isTransient } from '@racefree/transactions';
import { backoffDelay, type RetryPolicy } from '@racefree/transactions/internal';
import type { RowContext } from './context.js';

/** Up to 5 attempts, each after a random wait below 2, 4, 8, 16 ms: enough to break lockstep. */
const AUTOCOMMIT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 2, maxDelayMs: 50 };

/**
 * Outside a transaction every statement commits on its own, so a deadlock or serialization
 * failure has undone only that statement: re-running the helper is exact. Two callers that
 * deadlocked each other would meet again if both re-ran at once, so each waits a random
 * moment first (full jitter). Inside a transaction the error propagates, for the caller's
 * `atomic({ retries })` to re-run the whole.
 *
 * The attempt hooks the retry on by itself, where its failures arise, rather than on a
 * `.catch` after it: a found getOrCreate passes it to its one statement's `.then` (see
 * `readByKey`'s `recover`), so a call that succeeds pays no promise for a retry it did not
 * need. `attempt` gets `retry` outside a transaction, `undefined` inside one; every rejection
 * it can return that may be transient must go through `retry` when given (one that cannot be —
 * bad input, a mismatched row — may skip it: `retry` would rethrow it at once). Re-runs get
 * `undefined`: the retry loop catches their failures itself. A synchronous throw of the first
 * attempt is a failure like any other, so an attempt must throw before it hooks `retry` on
 * anything, never after (two retry loops would run).
 */
export function retryOutsideTransaction<T>(
  ctx: RowContext,
  attempt: (retry: ((error: unknown) => Promise<T>) | undefined) => Promise<T>,
): Promise<T> {
  const retry = ctx.inTransaction
    ? undefined
    : (error: unknown) => retryAfter(error, () => attempt(undefined));
  try {
    return attempt(retry);
  } catch (error) {
    return retry ? retry(error) : Promise.reject(error);
  }
}

async function retryAfter<T>(failure: unknown, run: () => Promise<T>): Promise<T> {
  let error = failure;
  for (let attempt = 1; ; attempt++) {
    if (attempt > AUTOCOMMIT_RETRY.retries || !isTransient(error)) throw error;
    await sleep(backoffDelay(AUTOCOMMIT_RETRY, attempt));
    try {
      // A synchronous throw is caught here too: an attempt need not be an async function.
      return await run();
    } catch (next) {
      error = next;
    }
  }
}
