import { Context, type Env, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';

/**
 * A fresh `Context` for one more run of the request: no response, status, headers or error
 * yet, the same `HonoRequest`, the variables set so far.
 *
 * Why not `next()`: Hono's `next()` can be called once per request, so a retry must dispatch
 * the remaining matched handlers itself (they are exactly `matchedRoutes(c)` after
 * `c.req.routeIndex`). Why a fresh context: a failed attempt leaves a response, a status,
 * headers and an error on its context; a new one per attempt starts clean by construction.
 * Why the same `HonoRequest`: it caches the parsed body (`c.req.json()`, `text()`,
 * `parseBody()`…), so every attempt reads the body the client sent although the underlying
 * stream can be read only once, and route params resolve as before.
 */
export function createAttempt(c: Context): Context {
  const attempt = new Context<Env>(c.req.raw, {
    env: c.env,
    executionCtx: executionContextOf(c),
    notFoundHandler: () => c.notFound(),
  });
  // Share the request object: cached bodies, validated data and route params carry over.
  Object.defineProperty(attempt, 'req', { value: c.req, configurable: true });
  for (const [key, value] of Object.entries(c.var)) attempt.set(key as never, value as never);
  const layout = c.getLayout();
  if (layout !== undefined) attempt.setLayout(layout);
  return attempt;
}

/**
 * Runs the handlers after the calling middleware (at `ownIndex` among the matched routes) —
 * the rest of the request — on `attempt`. Errors thrown by a handler propagate to the caller
 * (no `onError` runs per attempt): the caller decides whether to retry or to let Hono's error
 * handler render the last one.
 */
export async function runAttempt(c: Context, attempt: Context, ownIndex: number): Promise<void> {
  const first = ownIndex + 1;
  const handlers = matchedRoutes(c)
    .slice(first)
    .map((route) => route.handler as MiddlewareHandler);
  // The same contract as Hono's compose(): each handler gets a `next` that runs the following
  // one once; a returned Response becomes the response unless one is already set; past the
  // last handler, an unanswered request is a 404.
  let called = -1;
  const dispatch = async (index: number): Promise<void> => {
    if (index <= called) throw new Error('next() called multiple times');
    called = index;
    const handler = handlers[index];
    if (handler === undefined) {
      if (!attempt.finalized) attempt.res = await c.notFound();
      return;
    }
    c.req.routeIndex = first + index;
    const response = await handler(attempt, () => dispatch(index + 1));
    if (response && !attempt.finalized) attempt.res = response;
  };
  await dispatch(0);
  if (!attempt.finalized) throw notFinalized();
}

/** Hono's own error for a chain that neither answered nor called `next()`. */
export function notFinalized(): Error {
  return new Error(
    'Context is not finalized. Did you forget to return a Response object or `await next()`?',
  );
}

/**
 * Makes the attempt's outcome the request's: its response, variables and error. Headers that
 * middleware before `atomicRequests` set on `c` (CORS, request ids) are added where the
 * attempt's response lacks them, and their cookies come first, then the attempt's own — the
 * order Hono gives them. (Unlike Hono, headers set with `c.header()` before the middleware are
 * kept on a bare `new Response()` too; Hono drops them there.)
 */
export function adoptAttempt(c: Context, attempt: Context): void {
  for (const [key, value] of Object.entries(attempt.var)) c.set(key as never, value as never);
  if (attempt.error !== undefined) c.error = attempt.error;
  const upstream = c.res.headers;
  const response = new Response(attempt.res.body, attempt.res);
  for (const [name, value] of upstream) {
    if (name !== 'set-cookie' && !response.headers.has(name)) response.headers.set(name, value);
  }
  const own = response.headers.getSetCookie();
  const cookies = [...upstream.getSetCookie().filter((cookie) => !own.includes(cookie)), ...own];
  response.headers.delete('set-cookie');
  for (const cookie of cookies) response.headers.append('set-cookie', cookie);
  // Clear first: assigning over an existing response would merge its headers again and drop
  // the attempt's cookies (Hono's setter keeps only the old response's Set-Cookie).
  c.res = undefined;
  c.res = response;
}

function executionContextOf(c: Context): Context['executionCtx'] | undefined {
  try {
    return c.executionCtx;
  } catch {
    // Node has no ExecutionContext; Hono's getter throws instead of returning undefined.
    return undefined;
  }
}
