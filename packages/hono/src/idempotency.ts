import { setTimeout as sleep } from 'node:timers/promises';
import {
  atomic,
  type Database,
  current,
  InvalidArgumentError,
  isTransient,
  onCommit,
} from '@racefree/transactions';
import {
  activeTransaction,
  backoffDelay,
  type Dialect,
  dialectOf,
  familyOf,
  retryPolicy,
} from '@racefree/transactions/internal';
import type { Context, MiddlewareHandler, Next } from 'hono';
import {
  type IdempotencyDialect,
  idempotencyDialectFor,
  type KeyClaim,
  type KeyRecord,
} from './dialects/idempotency-dialect-for.js';
import { mustTakeOver } from './dialects/idempotency-dialect.js';
import { IdempotencyTableMissingError } from './idempotency-table-missing-error.js';
import {
  type IdempotencyOptions,
  type IdempotencySettings,
  idempotencySettings,
} from './idempotency-settings.js';
import { problemResponse } from './problem-response.js';
import { pruneIdempotencyKeys } from './prune-idempotency-keys.js';
import {
  fingerprintDifferences,
  isIdempotencyKey,
  type RequestFingerprint,
  requestFingerprint,
} from './request-fingerprint.js';
import { isAtomicRequest } from './request-state.js';
import { notFinalized } from './run-attempt.js';
import { captureResponse, replayResponse } from './stored-response.js';

export type { IdempotencyOptions } from './idempotency-settings.js';

/**
 * Backoff between claims that lost a deadlock (InnoDB, when duplicates were queued behind a
 * first request that rolled back). The retries stop at the `waitMs` deadline anyway.
 */
const CLAIM_RETRY = retryPolicy({ retries: 20, baseDelayMs: 5, maxDelayMs: 200 });

/** Thrown inside the transaction to roll back a request that failed (the response stays). */
class RolledBack {}

/**
 * Hono middleware for the `Idempotency-Key` request header (the IETF httpapi draft "The
 * Idempotency-Key HTTP Header Field", with Stripe's semantics): a keyed request runs its
 * handler at most once per (`scope(c)`, key), and its retries get the first response again.
 *
 * - **At most once, from the database.** The key is claimed by inserting its row in the
 *   request's transaction (primary key (scope, key)); the handler runs in the same transaction
 *   and its response — status, body, Content-Type, the headers you name — is written into that
 *   row before COMMIT. The key is stored if and only if the handler's writes commit: a crash or
 *   a killed connection at any point leaves neither.
 * - **Replays.** A completed key with the same request (method, path with query, SHA-256 of the
 *   body) is answered from the row, with `Idempotent-Replayed: true`, without running the
 *   handler. The same key with another request → 422.
 * - **Duplicates in flight.** A duplicate that arrives while the first is running waits on the
 *   first's uncommitted row (up to `waitMs`): then it replays the first's response, or — the
 *   first failed — runs itself. When the wait runs out: 409 with `Retry-After`.
 * - **Failures store nothing.** A handler that throws or answers ≥ 400 rolls back (writes and
 *   claim): the key is free for the next try. A bad key (not 1–255 visible ASCII characters)
 *   → 400. Requests without the header, or with other methods, pass through untouched.
 * - **One transaction with `atomicRequests`.** Mounted after `atomicRequests`, the claim, the
 *   handler and the stored response are part of the request's transaction, committed (and
 *   retried) with it. On its own, it opens a transaction for each keyed request.
 *
 * Keys expire after `ttlMs` and are pruned (`prune`). The table comes from
 * `installIdempotency(db)` or your drizzle-kit schema (`pgIdempotencyTable`,
 * `mysqlIdempotencyTable`). Bad options throw `InvalidArgumentError` when the app is built.
 *
 * @example
 * app.use('/api/*', atomicRequests(db, { retries: 3 }));
 * app.use('/api/*', idempotency(db, { scope: (c) => c.get('userId') }));
 * app.post('/api/orders', async (c) => c.json(await placeOrder(db, await c.req.json()), 201));
 */
export function idempotency(db: Database, options: IdempotencyOptions = {}): MiddlewareHandler {
  // Checked when the app is built, not on its first request.
  familyOf(db, 'idempotency');
  const settings = idempotencySettings(options);
  const pruning = prunePacer(db, settings.prune);

  return async function idempotencyMiddleware(c, next) {
    if (!settings.methods.has(c.req.method)) return next();
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!isIdempotencyKey(key))
      return problemResponse(
        c,
        400,
        'Invalid Idempotency-Key',
        'Idempotency-Key must be 1 to 255 visible ASCII characters (no spaces).',
      );
    const scope = await settings.scope(c);
    if (typeof scope !== 'string' || scope.length > 255)
      throw new InvalidArgumentError(
        `idempotency: scope(c) must return a string of at most 255 characters, got ${typeof scope === 'string' ? `${scope.length} characters` : typeof scope}`,
      );
    const request = await requestFingerprint(c);
    const server = await dialectOf(db);
    const store = idempotencyDialectFor(server);
    const claim: KeyClaim = { scope, key, ...request, ttlMs: settings.ttlMs };

    // The fast path: a completed key replays from one plain read, no transaction, no lock. A
    // committed row is always complete, and replaying what was valid when read is all a
    // client can tell apart anyway.
    const known = await withTableCheck(store, () => store.read(current(db), scope, key));
    if (known !== undefined && !mustTakeOver(known)) return answerCompleted(c, known, request);

    return runClaimed({ db, c, next, store, server, claim, request, settings, pruning });
  };
}

interface ClaimedRun {
  db: Database;
  c: Context;
  next: Next;
  store: IdempotencyDialect;
  server: Dialect;
  claim: KeyClaim;
  request: RequestFingerprint;
  settings: IdempotencySettings;
  pruning: PrunePacer;
}

/**
 * Claims the key and runs the handler in one transaction, or answers without running it.
 *
 * The block is the request's own transaction, or — when a transaction is open already — a
 * savepoint of it, so that a failure here (a handler that threw or answered ≥ 400, a wait
 * that ran out) undoes the claim and the handler's writes and nothing else. Inside
 * `atomicRequests` the savepoint is left out: any such failure is a thrown error or a
 * response ≥ 400, on which atomicRequests rolls the whole request back anyway.
 */
async function runClaimed(run: ClaimedRun): Promise<Response | undefined> {
  const { db, c, next, store, server, claim, settings } = run;
  // Inside a transaction a failed claim cannot be re-run here: on InnoDB a deadlock has
  // already rolled back the whole transaction. It propagates to atomicRequests' retries.
  const nested = activeTransaction(db) !== undefined;
  const deadline = Date.now() + settings.waitMs;
  for (let attempt = 1; ; attempt++) {
    const progress = { handlerStarted: false };
    const claimAndRun = async (tx: Database): Promise<KeyRecord | undefined> => {
      const outcome = await store.claim(tx, server, claim, Math.max(0, deadline - Date.now()));
      // Someone else's completed key: nothing written here; its lock goes with the block.
      if ('row' in outcome) return outcome.row;
      progress.handlerStarted = true;
      await next();
      // Hono's error handler has rendered a handler's error; the response stays, the writes go.
      if (c.error !== undefined) throw new RolledBack();
      if (!c.finalized) throw notFinalized();
      if (c.res.status >= 400) throw new RolledBack();
      await store.complete(tx, claim, await captureResponse(c, settings));
      await run.pruning.afterStore();
      return undefined;
    };
    try {
      const completed = isAtomicRequest(c)
        ? await claimAndRun(current(db))
        : await atomic(db, claimAndRun);
      return completed === undefined ? undefined : answerCompleted(c, completed, run.request);
    } catch (error) {
      if (error instanceof RolledBack) return undefined;
      if (progress.handlerStarted) throw error;
      if (store.isWaitOver(error)) return inProgress(c, settings.waitMs);
      if (store.isMissingTable(error)) throw new IdempotencyTableMissingError(error);
      if (!isTransient(error) || nested) throw error;
      // A deadlock or serialization failure while claiming (InnoDB deadlocks duplicates that
      // were queued behind a first request that rolled back): nothing has run yet, so the
      // claim is simply tried again, within the same waitMs.
      if (attempt > CLAIM_RETRY.retries || Date.now() >= deadline)
        return inProgress(c, settings.waitMs);
      await sleep(backoffDelay(CLAIM_RETRY, attempt));
    }
  }
}

/** A completed key: replay it, or 422 when this is another request under the same key. */
function answerCompleted(c: Context, record: KeyRecord, request: RequestFingerprint): Response {
  const differences = fingerprintDifferences(record, request);
  if (differences.length === 0) return replayResponse(c, record);
  return problemResponse(
    c,
    422,
    'Idempotency-Key reused',
    `This Idempotency-Key was already used for another request (its ${differences.join(', ')} differed). Use a new key for a new request.`,
  );
}

/** 409: the first request with this key is still running after `waitMs`. */
function inProgress(c: Context, waitMs: number): Response {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return problemResponse(
    c,
    409,
    'Request in progress',
    'A request with this Idempotency-Key is still being processed. Retry after the Retry-After delay to get its response.',
    { 'retry-after': String(seconds) },
  );
}

async function withTableCheck<T>(store: IdempotencyDialect, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (store.isMissingTable(error)) throw new IdempotencyTableMissingError(error);
    throw error;
  }
}

interface PrunePacer {
  /** Inside the storing transaction: schedules a prune after its commit when one is due. */
  afterStore(): Promise<void>;
}

/**
 * At most one prune per `everyMs` per middleware, after a commit (an `onCommit` hook, robust:
 * a failed prune is logged, never turned into the request's error). A full batch means more
 * are waiting: the next stored request prunes again.
 */
function prunePacer(db: Database, prune: IdempotencySettings['prune']): PrunePacer {
  let dueAt = 0;
  return {
    async afterStore() {
      if (prune === undefined || Date.now() < dueAt) return;
      dueAt = Date.now() + prune.everyMs;
      await onCommit(
        async () => {
          const deleted = await pruneIdempotencyKeys(db, { limit: prune.batch });
          if (deleted >= prune.batch) dueAt = 0;
        },
        { robust: true },
      );
    },
  };
}
