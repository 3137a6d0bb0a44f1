import type { Database } from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';

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

/** Which server `db` talks to, as `databaseServer` tells it. */
export interface DatabaseServer {
  /** `mariadb` when a MySQL-protocol server says it is MariaDB. */
  kind: 'postgres' | 'mysql' | 'mariadb';
  /** The server's version number, e.g. `15.20` or `10.11.19`. */
  version: string;
  /** `PostgreSQL 15.20`, `MariaDB 10.11.19`, `MySQL 8.4.3`: for people. */
  label: string;
}

/**
 * Asks the server behind `db` what it is (one query): the race lab shows it, since the races
 * play out differently on each.
 *
 * @example
 * const { label } = await databaseServer(db); // 'PostgreSQL 15.20'
 */
export async function databaseServer(db: Database): Promise<DatabaseServer> {
  const dialect = bookstoreDialectOf(db, 'databaseServer');
  if (dialect.family === 'postgres') {
    const [row] = await dialect.rows<{ v: string }>(
      db,
      sql`select current_setting('server_version') as v`,
    );
    const version = String(row?.v ?? '').split(' ')[0] ?? '';
    return { kind: 'postgres', version, label: `PostgreSQL ${version}` };
  }
  const [row] = await dialect.rows<{ v: string }>(db, sql`select version() as v`);
  const full = String(row?.v ?? '');
  const version = full.split('-')[0] ?? full;
  const kind = /mariadb/i.test(full) ? 'mariadb' : 'mysql';
  return { kind, version, label: `${kind === 'mariadb' ? 'MariaDB' : 'MySQL'} ${version}` };
}
