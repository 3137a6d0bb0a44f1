import { type AtomicOptions, atomic } from './atomic.js';
import { type Database, driverOf, isDrizzleTransaction, type TransactionOf } from './database.js';
import { takeOverTransaction } from './drizzle-transaction.js';
import { InvalidArgumentError } from './errors.js';

const managedRoots = new WeakSet<object>();

/**
 * A database whose `transaction` is `atomic`: Drizzle's signature, and atomic's options
 * (`isolationLevel`, `accessMode`, `retries`). Drizzle's own signature stays in the type, so a
 * Drizzle option atomic does not take (PostgreSQL's `deferrable`) still type-checks; it is
 * refused at run time with `InvalidArgumentError`, before any SQL.
 */
export type Managed<D extends Database> = D & {
  transaction<T>(fn: (tx: TransactionOf<D>) => Promise<T> | T, options?: AtomicOptions): Promise<T>;
};

/**
 * Returns `db` itself, with `db.transaction(fn, config?)` made `atomic(db, fn, config)` — and
 * every `tx.transaction(fn)` inside it a nested atomic block (a savepoint, as in Drizzle).
 * Keep Drizzle's habit and get racefree's semantics: `onCommit` hooks, `jobs.enqueue` and every
 * racefree helper inside `db.transaction(…)` wait for the commit, and `{ retries }` re-runs a
 * deadlocked transaction whole. Call it once, where the database is created.
 *
 * Why it is safe: a plain `db.transaction()` is invisible to racefree (Drizzle offers no hook),
 * so code inside it that registers an after-commit hook on `db` sees no transaction and runs it
 * at once — before the commit, the very race racefree exists to prevent. Routing Drizzle's own
 * method through `atomic` closes that gap for every caller of `db`.
 *
 * @example
 * const db = managed(drizzle({ client }));
 * await db.transaction(async (tx) => {
 *   const [user] = await tx.insert(users).values({ email }).returning();
 *   await onCommit(() => mailer.welcome(user.email)); // after the commit, never before
 * }, { retries: 3 });
 */
export function managed<D extends Database>(db: D): Managed<D> {
  driverOf(db, 'managed');
  if (isDrizzleTransaction(db))
    throw new InvalidArgumentError(
      'managed() takes the root database from drizzle(…), not a transaction: the transactions atomic opens are managed already.',
    );
  if (!managedRoots.has(db)) {
    managedRoots.add(db);
    takeOverTransaction(db, (fn, config) =>
      atomic(db, fn as (tx: Database) => unknown, (config ?? {}) as AtomicOptions),
    );
  }
  return db as Managed<D>;
}
