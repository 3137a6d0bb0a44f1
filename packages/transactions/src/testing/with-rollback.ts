import { runAtomic } from '../atomic.js';
import type { Database, TransactionOf } from '../database.js';

/**
 * Runs `fn(tx)` in a transaction (a savepoint when one is open) that is always rolled back,
 * and returns `fn`'s result: a test's writes never persist. `onCommit` hooks registered inside
 * are neither run nor lost — `captureOnCommit` returns them; `onRollback` hooks are dropped,
 * since the rollback is the test's, not the code's. Code under test that asks for `retries`
 * works unchanged (nested blocks leave retrying to the outermost, which here never retries).
 */
export async function withRollback<D extends Database, T>(
  db: D,
  fn: (tx: TransactionOf<D>) => Promise<T> | T,
): Promise<T> {
  return runAtomic(db, fn as (tx: Database) => Promise<T> | T, {}, 'withRollback', true);
}
