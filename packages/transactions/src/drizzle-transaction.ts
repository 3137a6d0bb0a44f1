import type { Database } from './database.js';

type TransactionMethod = (fn: (tx: never) => unknown, config?: object) => Promise<unknown>;

/** The `transaction` method Drizzle gave an object before racefree took it over. */
const drizzleMethods = new WeakMap<object, TransactionMethod>();

/**
 * Points `target.transaction` at `replacement` (an own property, so Drizzle's prototype and
 * every other object stay as they were), remembering Drizzle's own method for `openWithDrizzle`.
 */
export function takeOverTransaction(target: Database, replacement: TransactionMethod): void {
  if (!drizzleMethods.has(target))
    drizzleMethods.set(
      target,
      (target as unknown as { transaction: TransactionMethod }).transaction,
    );
  Object.defineProperty(target, 'transaction', {
    value: replacement,
    configurable: true,
    writable: true,
    enumerable: false,
  });
}

/**
 * Opens a transaction (or, on a transaction, a savepoint) with Drizzle's own method, whatever
 * racefree put in its place: what `atomic` itself runs on.
 */
export function openWithDrizzle<T>(
  target: Database,
  fn: (tx: Database) => Promise<T>,
  config?: object,
): Promise<T> {
  const method =
    drizzleMethods.get(target) ??
    (target as unknown as { transaction: TransactionMethod }).transaction;
  return method.call(target, fn as (tx: never) => unknown, config) as Promise<T>;
}
