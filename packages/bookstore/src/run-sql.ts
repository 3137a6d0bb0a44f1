import type { Database } from '@racefree/transactions';
import type { SQL } from 'drizzle-orm';
import { bookstoreDialectOf, type DatabaseServer } from './dialects/bookstore-dialect.js';

export type { DatabaseServer } from './dialects/bookstore-dialect.js';

/**
 * Runs `query` with Drizzle's `db.execute` on `db` as given and answers its rows as plain
 * objects, alike on postgres.js, node-postgres and mysql2 (whose `execute` answers differ).
 * Pass `current(db)` to join the surrounding transaction.
 *
 * @example
 * const [row] = await queryRows<{ n: number }>(db, sql`select count(*) as n from orders`);
 */
export function queryRows<R = Record<string, unknown>>(db: Database, query: SQL): Promise<R[]> {
  return bookstoreDialectOf(db, 'queryRows').rows<R>(db, query);
}

/**
 * Runs a data-changing statement with Drizzle's `db.execute` on `db` as given and answers how
 * many rows it matched, alike on every driver.
 *
 * @example
 * const deleted = await runStatement(db, sql`delete from orders where book_id = ${bookId}`);
 */
export function runStatement(db: Database, query: SQL): Promise<number> {
  return bookstoreDialectOf(db, 'runStatement').changed(db, query);
}

/**
 * Asks the server behind `db` what it is (one query): the race lab shows it, since the races
 * play out differently on each.
 *
 * @example
 * const { label } = await databaseServer(db); // 'PostgreSQL 15.20'
 */
export function databaseServer(db: Database): Promise<DatabaseServer> {
  return bookstoreDialectOf(db, 'databaseServer').server(db);
}
