import type { SQLWrapper } from 'drizzle-orm';
import type { MySqlDatabase } from 'drizzle-orm/mysql-core';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { type Answer, classOf, type Family, type QueryBuilder } from './drivers/driver.js';
import { driverOf } from './drivers/driver-of.js';

export type { Answer, Driver, DriverName, Family, QueryBuilder } from './drivers/driver.js';
export { driverOf } from './drivers/driver-of.js';

/** A Drizzle PostgreSQL database or transaction (postgres.js or node-postgres). */
export type AnyPgDatabase = PgDatabase<any, any, any>;
/** A Drizzle MySQL/MariaDB database or transaction (mysql2). */
export type AnyMySqlDatabase = MySqlDatabase<any, any, any, any>;
/** Any database racefree works with: a Drizzle root database or one of its transactions. */
export type Database = AnyPgDatabase | AnyMySqlDatabase;

/** The transaction type Drizzle hands to `db.transaction(fn)` for a database of type `D`. */
export type TransactionOf<D extends Database> = D extends {
  transaction(fn: (tx: infer T) => Promise<unknown>, ...rest: never[]): unknown;
}
  ? T
  : never;

/**
 * The protocol family of `db`'s driver. Refuses, before any SQL, anything that is not a
 * Drizzle database on a supported driver (see `driverOf`).
 */
export function familyOf(db: unknown, operation = 'racefree'): Family {
  return driverOf(db, operation).family;
}

/** True for a Drizzle transaction object (as opposed to a root database), told by its driver's class names. */
export function isDrizzleTransaction(db: Database): boolean {
  return classOf(db) === driverOf(db).transactionClass;
}

/**
 * Runs a raw statement with Drizzle's `db.execute` and reads the answer alike on every driver.
 * Errors are Drizzle's own: a `DrizzleQueryError` with the driver's error as `cause`.
 */
export async function execute(db: Database, query: SQLWrapper): Promise<Answer> {
  const driver = driverOf(db);
  const result: unknown = await (
    db as { execute(query: SQLWrapper): PromiseLike<unknown> }
  ).execute(query);
  return driver.answer(result);
}

/** Runs a raw statement and returns its rows. */
export async function executeRows<R = Record<string, unknown>>(
  db: Database,
  query: SQLWrapper,
): Promise<R[]> {
  return (await execute(db, query)).rows as R[];
}

/** Runs a raw statement that returns no rows (DDL, SET, UPDATE) and returns the affected row count. */
export async function executeStatement(db: Database, query: SQLWrapper): Promise<number> {
  return (await execute(db, query)).rowCount;
}

/** Drizzle's prepared query of a builder, as `db`'s driver makes one (see `Driver.prepare`). */
export function prepareQuery<P>(db: Database, query: { prepare(name?: string): P }): P {
  return driverOf(db).prepare(query);
}

/**
 * Runs one of Drizzle's query builders (`tx.select()…`, `tx.insert()…`) the way `db`'s driver
 * runs it best: prepared on postgres.js (one round trip instead of two), as it is elsewhere.
 */
export function runQuery<T>(db: Database, query: QueryBuilder<T>): Promise<T> {
  return driverOf(db).run(query);
}
