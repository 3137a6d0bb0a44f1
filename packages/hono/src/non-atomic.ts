import { RacefreeError } from '@racefree/transactions';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { isAtomicRequest } from './request-state.js';

const NON_ATOMIC = Symbol.for('@racefree/hono/nonAtomic');

/** Hono's `app.route()` wraps a sub-app's handlers when it has its own `onError`, and keeps the original here. */
const COMPOSED_HANDLER = '__COMPOSED_HANDLER';

/**
 * Thrown by `nonAtomic()` when it runs inside a request transaction anyway: `atomicRequests`
 * could not see it among the request's matched routes (it was wrapped in `every()`/`some()`,
 * or sits in an app attached with `mount()`). Failing loudly beats writing in a transaction the
 * route asked not to have. Register `nonAtomic()` directly on the route, or use `skip`.
 */
export class NonAtomicIgnoredError extends RacefreeError {
  constructor(path: string) {
    super(
      'NON_ATOMIC_IGNORED',
      `nonAtomic() on ${path} ran inside the request transaction: atomicRequests did not see it among the matched routes. Register it directly on the route (app.post(path, nonAtomic(), handler)) or opt out with atomicRequests(db, { skip }).`,
    );
  }
}

/**
 * Route-level opt-out of `atomicRequests` (Django's `@non_atomic_requests`): the route's
 * handlers run in autocommit — each statement commits on its own, a later error or 4xx/5xx
 * undoes nothing — and may open their own `atomic` blocks where they need them. Use it for
 * streaming responses, long uploads, or work that must survive a failed request (an audit
 * row). `atomicRequests` finds the marker among the request's matched routes before opening
 * the transaction, so its position in the chain does not matter.
 *
 * @example
 * app.use(atomicRequests(db));
 * app.post('/import', nonAtomic(), async (c) => {
 *   for (const batch of batches) await atomic(db, (tx) => insertBatch(tx, batch));
 *   return c.json({ ok: true });
 * });
 */
export function nonAtomic(): MiddlewareHandler {
  const marker: MiddlewareHandler = async (c, next) => {
    // Reached inside the transaction: the middleware could not see this marker. Refuse
    // rather than silently run the route atomically.
    if (isAtomicRequest(c)) throw new NonAtomicIgnoredError(c.req.path);
    await next();
  };
  Object.defineProperty(marker, NON_ATOMIC, { value: true });
  return marker;
}

/** True when a `nonAtomic()` marker is among the routes matched for this request. */
export function isNonAtomicRoute(c: Context): boolean {
  return matchedRoutes(c).some(({ handler }) => {
    const original = (handler as unknown as Record<string, unknown>)[COMPOSED_HANDLER];
    return isMarker(handler) || isMarker(original);
  });
}

function isMarker(handler: unknown): boolean {
  return (
    typeof handler === 'function' && (handler as { [NON_ATOMIC]?: boolean })[NON_ATOMIC] === true
  );
}
