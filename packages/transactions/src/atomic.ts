import { setTimeout as sleep } from 'node:timers/promises';
import { isConnectionLost, isSavepointFailure, isTransient } from './classify-error.js';
import { connectionLock, takeTurn } from './connection-lock.js';
import { type Database, driverOf, type TransactionOf } from './database.js';
import { ISOLATION_LEVELS, type IsolationLevel } from './dialects/dialect.js';
import { dialectOf } from './dialects/detect.js';
import { openWithDrizzle, takeOverTransaction } from './drizzle-transaction.js';
import {
  CommitOutcomeUnknownError,
  InvalidArgumentError,
  RetryExhaustedError,
  TransactionAbortedError,
} from './errors.js';
import { discardHooks, runHooks } from './hooks.js';
import { backoffDelay, type RetriesOption, retryPolicy } from './retry-policy.js';
import { resolveManagedTarget, runInScope, Scope } from './scope.js';

/** Options of `atomic`. */
export interface AtomicOptions {
  /**
   * Isolation level of the transaction. Default: the server's (READ COMMITTED on PostgreSQL,
   * REPEATABLE READ on MySQL/MariaDB). A nested block may only ask for the running level.
   */
  isolationLevel?: IsolationLevel;
  /**
   * Re-run the whole block on a deadlock, serialization failure or lock-wait timeout, with
   * jittered exponential backoff: a number of re-runs after the first attempt (`3`: up to 4
   * attempts), or `{ retries, baseDelayMs?, maxDelayMs? }` (defaults 10 and 1000 ms). Default
   * 0. Only the outermost block retries: on a nested block the option is accepted and the
   * error propagates to it.
   */
  retries?: RetriesOption;
  /**
   * `'read only'` or `'read write'` (the server's default): Drizzle's transaction option,
   * passed on. Outermost block only, like the isolation level.
   */
  accessMode?: 'read only' | 'read write';
}

const OPTION_KEYS = new Set(['isolationLevel', 'retries', 'accessMode']);
const ACCESS_MODES = ['read only', 'read write'];

/** Thrown inside Drizzle's transaction to make it roll back a block that succeeded (withRollback). */
class RollbackSignal {
  constructor(readonly value: unknown) {}
}

/**
 * Runs `fn(tx)` in a transaction and returns its result (Django's `transaction.atomic`).
 * Nested calls — given `tx`, or given the root `db` while a block on it is open in this async
 * context — become savepoints, so an inner failure undoes only the inner work. Hooks
 * registered with `onCommit` run after the outermost block commits; none run for a rollback.
 *
 * Safe under concurrency: nested blocks started at the same time on one transaction take
 * turns (they share one connection), and with `retries` a deadlocked or serialization-failed
 * transaction is re-run whole, its hooks discarded. A connection lost during COMMIT is never
 * retried: it raises `CommitOutcomeUnknownError`.
 *
 * @example
 * const order = await atomic(db, async (tx) => {
 *   const [row] = await tx.insert(orders).values(input).returning();
 *   await onCommit(() => notify(row.id));
 *   return row;
 * }, { retries: 3 });
 */
export async function atomic<D extends Database, T>(
  db: D,
  fn: (tx: TransactionOf<D>) => Promise<T> | T,
  options: AtomicOptions = {},
): Promise<T> {
  return runAtomic(db, fn as (tx: Database) => Promise<T> | T, options, 'atomic', false);
}

/** Shared by `atomic` and `withRollback` (which always rolls back and keeps hooks for capture). */
export async function runAtomic<T>(
  db: Database,
  fn: (tx: Database) => Promise<T> | T,
  options: AtomicOptions,
  operation: string,
  rollbackOnly: boolean,
): Promise<T> {
  if (typeof fn !== 'function')
    throw new InvalidArgumentError(`${operation} needs a function as its second argument`);
  checkOptions(options, operation);
  if (options.isolationLevel !== undefined && !ISOLATION_LEVELS.includes(options.isolationLevel)) {
    throw new InvalidArgumentError(
      `Unknown isolation level ${JSON.stringify(options.isolationLevel)}; use one of ${ISOLATION_LEVELS.map((l) => `'${l}'`).join(', ')}.`,
    );
  }
  const policy = retryPolicy(options.retries);
  const target = resolveManagedTarget(db, operation);
  if (target.scope) {
    const running = target.scope.outermost.isolationLevel;
    if (options.isolationLevel !== undefined && options.isolationLevel !== running) {
      throw new InvalidArgumentError(
        `A nested ${operation} block asked for isolation level '${options.isolationLevel}' but the running transaction is '${running}'; the level can only be set by the outermost block.`,
      );
    }
    if (options.accessMode !== undefined)
      throw new InvalidArgumentError(
        `A nested ${operation} block cannot set accessMode: only the outermost block can.`,
      );
    return runNested(target.scope, fn, rollbackOnly);
  }
  const dialect = await dialectOf(target.root);
  const isolationLevel = options.isolationLevel ?? dialect.defaultIsolationLevel;
  const config =
    options.isolationLevel || options.accessMode
      ? {
          ...(options.isolationLevel ? { isolationLevel: options.isolationLevel } : {}),
          ...(options.accessMode ? { accessMode: options.accessMode } : {}),
        }
      : undefined;
  const driver = driverOf(target.root);
  const client = (target.root as { $client?: unknown }).$client;
  if (client !== undefined && client !== null) driver.guard(client);
  const abandonLost = driver.abandonLostTransactions;
  const turn = connectionLock(target.root);
  for (let attempt = 1; ; attempt++) {
    const scope = new Scope(target.root, undefined, isolationLevel);
    scope.abandonLostTransactions = abandonLost;
    let bodyError: { error: unknown } | undefined;
    let committing = false;
    let value: T;
    // One connection (a pg Client, a mysql2 connection): blocks take turns, or the second
    // BEGIN would land inside the first transaction. Released before the hooks run, which may
    // well use the database again.
    const held = turn ? await takeTurn(turn) : undefined;
    const release = held?.release;
    try {
      const open = () =>
        openWithDrizzle(
          target.root,
          (tx) =>
            runBody(
              scope,
              tx,
              fn,
              (failure) => {
                bodyError = failure;
              },
              (result) => {
                if (scope.broken) {
                  // A nested block's savepoint could not be rolled back (MySQL: a deadlock
                  // already rolled back everything, and the connection is now outside any
                  // transaction) and the body carried on. Committing would report success for
                  // work that is gone.
                  bodyError = scope.broken;
                  throw scope.broken.error;
                }
                if (rollbackOnly) throw new RollbackSignal(result);
                committing = true;
                return result;
              },
            ),
          config,
        );
      const pending = held ? held.run(open) : open();
      scope.ended = pending.then(
        () => undefined,
        () => undefined,
      );
      value = (await pending) as T;
    } catch (error) {
      await release?.();
      scope.state = 'rolled back';
      if (error instanceof RollbackSignal && !bodyError) {
        // withRollback: commit hooks stay pending for captureOnCommit; the rollback is the test's.
        discardHooks(scope.rollbackHooks);
        return error.value as T;
      }
      // Nested blocks still open here were cut off (the driver rejected the transaction while
      // they ran: a lost connection). They roll back with it, innermost first.
      for (const open of [...scope.openDescendants].reverse()) {
        open.state = 'rolled back';
        discardHooks(open.commitHooks);
        await runHooks(open.rollbackHooks);
      }
      if (committing && !bodyError && isConnectionLost(error)) {
        // Neither hook list is known to be right: onRollback promises "after a rollback", and
        // its compensations could undo outside work for rows that did commit. The error tells
        // the caller to check the data instead. Notices are harmless if nothing committed, and
        // needed if it did (a job nobody wakes a worker for waits for the next poll).
        await runHooks(scope.commitHooks.filter((entry) => entry.notice));
        discardHooks(scope.commitHooks);
        discardHooks(scope.rollbackHooks);
        throw new CommitOutcomeUnknownError(error);
      }
      discardHooks(scope.commitHooks);
      await runHooks(scope.rollbackHooks);
      // A failed ROLLBACK (dead connection) must not hide why the block failed.
      const cause = bodyError ? bodyError.error : error;
      if (policy.retries === 0 || !isTransient(cause)) throw cause;
      if (attempt > policy.retries) throw new RetryExhaustedError(attempt, cause);
      await sleep(backoffDelay(policy, attempt));
      continue;
    }
    await release?.();
    scope.state = 'committed';
    await runHooks(scope.commitHooks);
    return value;
  }
}

async function runNested<T>(
  parent: Scope,
  fn: (tx: Database) => Promise<T> | T,
  rollbackOnly: boolean,
): Promise<T> {
  const release = await parent.children.acquire();
  let child: Scope | undefined;
  try {
    const outermost = parent.outermost;
    if (outermost.broken) throw new TransactionAbortedError(outermost.broken.error);
    child = new Scope(parent.root, parent, parent.isolationLevel);
    outermost.openDescendants.add(child);
    let bodyError: { error: unknown } | undefined;
    let signal: RollbackSignal | undefined;
    let value: T;
    try {
      value = (await openWithDrizzle(parent.tx, (tx) =>
        runBody(
          child as Scope,
          tx,
          fn,
          (failure) => {
            bodyError = failure;
          },
          (result) => {
            if (rollbackOnly) {
              signal = new RollbackSignal(result);
              throw signal;
            }
            return result;
          },
        ),
      )) as T;
    } catch (error) {
      outermost.openDescendants.delete(child);
      child.state = 'rolled back';
      discardHooks(child.commitHooks);
      if (error instanceof RollbackSignal && error === signal) {
        discardHooks(child.rollbackHooks);
        return error.value as T;
      }
      // A savepoint statement failed (not the body): on MySQL/MariaDB after a deadlock InnoDB
      // has already rolled back the whole transaction, so ROLLBACK TO SAVEPOINT fails too. The
      // transaction is gone; the outermost block must not commit, even if this error is caught.
      if (error !== bodyError?.error && isSavepointFailure(error)) {
        outermost.broken ??= bodyError ?? { error };
      }
      // The deadlock, not "SAVEPOINT does not exist", is what the outer block must see.
      throw bodyError ? bodyError.error : error;
    }
    outermost.openDescendants.delete(child);
    child.state = 'committed';
    parent.commitHooks.push(...child.commitHooks);
    parent.rollbackHooks.push(...child.rollbackHooks);
    child = undefined;
    return value;
  } finally {
    release();
    // After the turn is given back: a rollback hook may open a savepoint on this transaction
    // again, which would otherwise wait for the very turn it runs in.
    if (child?.state === 'rolled back') await runHooks(child.rollbackHooks);
  }
}

/**
 * A block's body, run in its scope on the driver's `tx` — the callback the driver's
 * `transaction` runs. A failure of the body is handed to `failed` before it propagates: the
 * block must tell it from a failure of the driver's own statements (COMMIT, ROLLBACK TO
 * SAVEPOINT), which is what it reports and retries on. `after` sees the body's result and
 * decides what the driver gets (a throw rolls the block back, and is not the body's failure).
 */
async function runBody<T>(
  scope: Scope,
  tx: Database,
  fn: (tx: Database) => Promise<T> | T,
  failed: (failure: { error: unknown }) => void,
  after: (result: T) => T,
): Promise<T> {
  scope.tx = tx;
  // Drizzle's `tx.transaction(fn)` inside the block is a nested atomic block: a savepoint
  // racefree knows about, with its hooks and its turn among concurrent siblings.
  takeOverTransaction(tx, (nested, config) =>
    atomic(tx, nested as (tx: Database) => unknown, (config ?? {}) as AtomicOptions),
  );
  let result: T;
  try {
    result = await runInScope(scope, () => fn(tx));
  } catch (error) {
    failed({ error });
    await abandonIfConnectionLost(scope, error);
    throw error;
  }
  return after(result);
}

/** Refuses options atomic does not know, before any SQL: a typo must not silently do nothing. */
function checkOptions(options: unknown, operation: string): void {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError(
      `${operation} options must be an object, got ${String(options)}`,
    );
  const unknown = Object.keys(options).filter(
    (key) => !OPTION_KEYS.has(key) && (options as Record<string, unknown>)[key] !== undefined,
  );
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `${operation} has no option ${unknown.map((key) => JSON.stringify(key)).join(', ')}; it takes isolationLevel, retries and accessMode.`,
    );
  const { accessMode } = options as AtomicOptions;
  if (accessMode !== undefined && !ACCESS_MODES.includes(accessMode))
    throw new InvalidArgumentError(
      `Unknown accessMode ${JSON.stringify(accessMode)}; use 'read only' or 'read write'.`,
    );
}

/** How long to wait for the driver to notice a lost connection before giving up on abandoning. */
const DRIVER_NOTICE_MS = 1000;

/**
 * When the connection died under a block, hands the driver nothing more to do with it.
 *
 * postgres.js (3.4.9 and before) answers a transaction callback that failed by sending ROLLBACK
 * (or ROLLBACK TO SAVEPOINT) on the same connection — and when that connection is closed, the
 * write, deferred to a setImmediate, dereferences a null socket: an uncaught TypeError that
 * takes the whole process down (porsager/postgres#1208, #1154). The server has already rolled
 * the transaction back, and postgres.js rejects the transaction by itself once it sees the
 * close; the outermost block then rolls back every block still open, hooks included. So once
 * the driver has rejected it, this callback never settles: the driver is given nothing to write.
 */
async function abandonIfConnectionLost(scope: Scope, error: unknown): Promise<void> {
  const outermost = scope.outermost;
  if (!outermost.abandonLostTransactions || !isConnectionLost(error)) return;
  if (!(await settlesWithin(outermost.ended, DRIVER_NOTICE_MS))) return;
  await new Promise<never>(() => {});
}

/** True when `promise` settles within `ms` milliseconds. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      sleep(ms, false, { signal: timer.signal, ref: false }),
    ]);
  } finally {
    timer.abort();
  }
}
