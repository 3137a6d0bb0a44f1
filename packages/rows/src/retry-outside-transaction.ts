import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, isTransient, type RetryPolicy } from '@racefree/transactions';
import type { RowContext } from './context.js';

/** Up to 5 attempts, each after a random wait below 2, 4, 8, 16 ms: enough to break lockstep. */
const AUTOCOMMIT_RETRY: RetryPolicy = { retries: 4, baseDelayMs: 2, maxDelayMs: 50 };

/**
 * Outside a transaction every statement commits on its own, so a deadlock or serialization
 * failure has undone only that statement: re-running the helper is exact. Two callers that
 * deadlocked each other would meet again if both re-ran at once, so each waits a random
 * moment first (full jitter). Inside a transaction the error propagates, for the caller's
 * `atomic({ retries })` to re-run the whole.
 */
export function retryOutsideTransaction<T>(ctx: RowContext, run: () => Promise<T>): Promise<T> {
  // The first attempt without an async frame around it: every call pays for one, few retry.
  // `run` need not be an async function: what it throws still arrives as a rejection.
  let first: Promise<T>;
  try {
    first = run();
  } catch (error) {
    first = Promise.reject(error);
  }
  if (ctx.inTransaction) return first;
  return first.catch((error: unknown) => retryAfter(error, run));
}

async function retryAfter<T>(failure: unknown, run: () => Promise<T>): Promise<T> {
  let error = failure;
  for (let attempt = 1; ; attempt++) {
    if (attempt > AUTOCOMMIT_RETRY.retries || !isTransient(error)) throw error;
    await sleep(backoffDelay(AUTOCOMMIT_RETRY, attempt));
    try {
      return await run();
    } catch (next) {
      error = next;
    }
  }
}
