import {
  atomic,
  type Database,
  InvalidArgumentError,
  type IsolationLevel,
  type RetriesOption,
  RetryExhaustedError,
} from '@racefree/transactions';
import { familyOf, ISOLATION_LEVELS, retryPolicy } from '@racefree/transactions/internal';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { isNonAtomicRoute } from './non-atomic.js';
import { markAtomic } from './request-state.js';
import { adoptAttempt, createAttempt, notFinalized, runAttempt } from './run-attempt.js';

/** Options of `atomicRequests`. */
export interface AtomicRequestsOptions {
  /**
   * Re-run the whole request — every handler after the middleware — on a deadlock,
   * serialization failure or lock-wait timeout, up to this many times, with jittered backoff
   * (the same option as `atomic`'s). Default 0: a transient error is rendered by Hono's error
   * handler like any other. Handlers must read the body through `c.req` (`json()`, `text()`,
   * `parseBody()`, validators), which caches it for the next attempt, not through `c.req.raw`.
   */
  retries?: RetriesOption;
  /** Isolation level of the request transactions. Default: the server's. */
  isolationLevel?: IsolationLevel;
  /**
   * Return `true` to run the request without a transaction (autocommit), like a route marked
   * with `nonAtomic()`. Called before anything else. Default: every request is atomic.
   */
  skip?: (c: Context) => boolean | Promise<boolean>;
}

/**
 * Hono middleware that runs each request in one transaction (Django's `ATOMIC_REQUESTS`):
 * `atomic(db, …)` around every handler after it, so `current(db)` — and every racefree helper
 * and service given `db` — writes inside it.
 *
 * - **A failed request leaves nothing.** A thrown error *or any response with status ≥ 400*
 *   rolls the transaction back: what the client is told failed did not happen. (Django rolls
 *   back on exceptions only; a handler returning 409 after writing would keep its writes.)
 * - **Hooks before the response.** `onCommit` hooks registered during the request run after
 *   COMMIT and before the response is sent; none run for a rolled-back request. A hook that
 *   throws turns the (committed) request into an error response — register hooks whose failure
 *   must not do that with `{ robust: true }`.
 * - **Retries.** With `retries`, a request whose transaction hits a deadlock or serialization
 *   failure is rolled back and re-run whole, on a fresh `Context` that shares the request (so
 *   `c.req.json()` returns the same body). Side effects outside the database belong in
 *   `onCommit` hooks, which only the successful attempt runs.
 * - **Opting out.** Routes with `nonAtomic()`, and requests for which `skip(c)` is true, run in
 *   autocommit (Django's `non_atomic_requests`).
 *
 * Inside an open transaction (say a test wrapping `app.request()` in `withRollback`), the
 * request becomes a savepoint of it. The transaction ends before the response is sent, so a
 * streamed body is produced after COMMIT: stream from `nonAtomic()` routes.
 *
 * @example
 * const app = new Hono();
 * app.use('/api/*', atomicRequests(db, { retries: 3 }));
 * app.post('/api/books/:id/purchase', async (c) => {
 *   const { customerId } = await c.req.json();
 *   const order = await purchase(db, { bookId: Number(c.req.param('id')), customerId, strategy: 'atomic' });
 *   await onCommit(() => mailer.receipt(order)); // sent after COMMIT, before the response
 *   return c.json(order, 201);
 * });
 */
export function atomicRequests(
  db: Database,
  options: AtomicRequestsOptions = {},
): MiddlewareHandler {
  // Checked when the app is built, not on its first request.
  familyOf(db, 'atomicRequests');
  if (options.skip !== undefined && typeof options.skip !== 'function')
    throw new InvalidArgumentError('atomicRequests: skip must be a function (c) => boolean');
  if (options.isolationLevel !== undefined && !ISOLATION_LEVELS.includes(options.isolationLevel)) {
    throw new InvalidArgumentError(
      `atomicRequests: unknown isolation level ${JSON.stringify(options.isolationLevel)}; use one of ${ISOLATION_LEVELS.join(', ')}`,
    );
  }
  // Validated exactly as `atomic` validates it, when the app is built rather than on a request.
  const retrying = retryPolicy(options.retries).retries > 0;
  const atomicOptions = { retries: options.retries, isolationLevel: options.isolationLevel };

  return async function atomicRequestsMiddleware(c, next) {
    if (isNonAtomicRoute(c) || (await options.skip?.(c)) === true) {
      await next();
      return;
    }
    if (retrying) {
      // Hono moves routeIndex along as it dispatches; ours must be read before anything runs.
      await runRetrying(db, c, c.req.routeIndex, atomicOptions);
    } else {
      await runOnce(db, c, next, atomicOptions);
    }
  };
}

/** Thrown inside the transaction to roll back a request that produced an error response. */
class FailedResponse {
  constructor(readonly status: number) {}
}

/**
 * One attempt through Hono's own `next()`: exactly Hono's semantics. Hono catches a handler's
 * error, renders it with the app's error handler and records it in `c.error`, so a failure
 * shows here as `c.error` or as the status of the response.
 */
async function runOnce(
  db: Database,
  c: Context,
  next: Next,
  options: { isolationLevel?: IsolationLevel },
): Promise<void> {
  try {
    await atomic(
      db,
      async () => {
        markAtomic(c);
        await next();
        if (c.error !== undefined) throw c.error;
        // Hono answers an unfinished chain with a 500 after we return; do not commit for it.
        if (!c.finalized) throw notFinalized();
        if (c.res.status >= 400) throw new FailedResponse(c.res.status);
      },
      options,
    );
  } catch (error) {
    // Rolled back; the response Hono rendered for the failure is the one the client gets.
    if (error instanceof FailedResponse || (error === c.error && c.finalized)) return;
    // A failed BEGIN or COMMIT, or an onCommit hook that threw: Hono's error handler renders it.
    throw error;
  }
}

/** Attempts on fresh contexts, retried whole by `atomic` on transient errors. */
async function runRetrying(
  db: Database,
  c: Context,
  ownIndex: number,
  options: { retries?: RetriesOption; isolationLevel?: IsolationLevel },
): Promise<void> {
  let last: Context | undefined;
  try {
    await atomic(
      db,
      async () => {
        const attempt = createAttempt(c);
        last = attempt;
        markAtomic(attempt);
        await runAttempt(c, attempt, ownIndex);
        // An error a sub-app's onError already rendered still decides (and may be retried).
        if (attempt.error !== undefined) throw attempt.error;
        if (attempt.res.status >= 400) throw new FailedResponse(attempt.res.status);
      },
      options,
    );
  } catch (error) {
    const cause = error instanceof RetryExhaustedError ? error.cause : error;
    const rendered =
      last !== undefined &&
      last.finalized &&
      (cause instanceof FailedResponse || cause === last.error);
    if (!rendered || last === undefined) throw error; // Hono's error handler renders it
    adoptAttempt(c, last);
    return;
  }
  if (last !== undefined) adoptAttempt(c, last);
}
