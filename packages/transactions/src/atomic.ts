import { setTimeout as sleep } from 'node:timers/promises';
import { isConnectionLost, isTransient } from './classify-error.js';
import type { Database, TransactionOf } from './database.js';
import { ISOLATION_LEVELS, type IsolationLevel } from './dialects/dialect.js';
import { dialectOf } from './dialects/detect.js';
import { CommitOutcomeUnknownError, InvalidArgumentError, RetryExhaustedError } from './errors.js';
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
   * Re-run the whole block on a deadlock, serialization failure or lock-wait timeout, up to
   * this many times, with jittered exponential backoff. Default 0. Only the outermost block
   * retries: on a nested block the option is accepted and the error propagates to it.
   */
  retries?: RetriesOption;
}

/** Thrown inside Drizzle's transaction to make it roll back a block that succeeded (withRollback). */
class RollbackSignal {
  constructor(readonly value: unknown) {}
}

type Transactional = {
  transaction(
    fn: (tx: Database) => Promise<unknown>,
    config?: { isolationLevel: IsolationLevel },
  ): Promise<unknown>;
};

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
    return runNested(target.scope, fn, rollbackOnly);
  }
  const dialect = await dialectOf(target.root);
  const isolationLevel = options.isolationLevel ?? dialect.defaultIsolationLevel;
  const config = options.isolationLevel ? { isolationLevel: options.isolationLevel } : undefined;
  for (let attempt = 1; ; attempt++) {
    const scope = new Scope(target.root, undefined, isolationLevel);
    let bodyError: { error: unknown } | undefined;
    let committing = false;
    let value: T;
    try {
      value = (await (target.root as unknown as Transactional).transaction(async (tx) => {
        scope.tx = tx;
        let result: T;
        try {
          result = await runInScope(scope, () => fn(tx));
        } catch (error) {
          bodyError = { error };
          throw error;
        }
        if (rollbackOnly) throw new RollbackSignal(result);
        committing = true;
        return result;
      }, config)) as T;
    } catch (error) {
      scope.state = 'rolled back';
      if (error instanceof RollbackSignal && !bodyError) {
        // withRollback: commit hooks stay pending for captureOnCommit; the rollback is the test's.
        discardHooks(scope.rollbackHooks);
        return error.value as T;
      }
      discardHooks(scope.commitHooks);
      await runHooks(scope.rollbackHooks);
      if (committing && !bodyError && isConnectionLost(error))
        throw new CommitOutcomeUnknownError(error);
      // A failed ROLLBACK (dead connection) must not hide why the block failed.
      const cause = bodyError ? bodyError.error : error;
      if (policy.retries === 0 || !isTransient(cause)) throw cause;
      if (attempt > policy.retries) throw new RetryExhaustedError(attempt, cause);
      await sleep(backoffDelay(policy, attempt));
      continue;
    }
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
  try {
    const child = new Scope(parent.root, parent, parent.isolationLevel);
    let bodyError: { error: unknown } | undefined;
    let value: T;
    try {
      value = (await (parent.tx as unknown as Transactional).transaction(async (tx) => {
        child.tx = tx;
        let result: T;
        try {
          result = await runInScope(child, () => fn(tx));
        } catch (error) {
          bodyError = { error };
          throw error;
        }
        if (rollbackOnly) throw new RollbackSignal(result);
        return result;
      })) as T;
    } catch (error) {
      child.state = 'rolled back';
      if (error instanceof RollbackSignal && !bodyError) {
        discardHooks(child.rollbackHooks);
        return error.value as T;
      }
      discardHooks(child.commitHooks);
      await runHooks(child.rollbackHooks);
      // MySQL: after a deadlock InnoDB has already rolled back the whole transaction, so
      // ROLLBACK TO SAVEPOINT fails too; the deadlock is what the outer block must see.
      throw bodyError ? bodyError.error : error;
    }
    child.state = 'committed';
    parent.commitHooks.push(...child.commitHooks);
    parent.rollbackHooks.push(...child.rollbackHooks);
    return value;
  } finally {
    release();
  }
}
