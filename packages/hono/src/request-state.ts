import type { Context } from 'hono';

// The contexts whose handlers run inside a transaction opened by atomicRequests: the request's
// own context, or the fresh context of each attempt when retries are on. A WeakSet, so nothing
// outlives the request and nothing shows in the user's `c.var`.
const atomicContexts = new WeakSet<Context>();

/** Marks `c` as running inside the request transaction. */
export function markAtomic(c: Context): void {
  atomicContexts.add(c);
}

/**
 * True when the handler holding `c` runs inside the transaction `atomicRequests` opened for
 * the request (so `current(db)` is that transaction and its writes commit or roll back with
 * the response). False on routes opted out with `nonAtomic()` or `skip`, and without the
 * middleware.
 *
 * @example
 * app.post('/orders', (c) => {
 *   if (!isAtomicRequest(c)) throw new Error('orders must be written atomically');
 *   …
 * });
 */
export function isAtomicRequest(c: Context): boolean {
  return atomicContexts.has(c);
}
