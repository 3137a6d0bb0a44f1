import { type Database, InvalidArgumentError } from '@racefree/transactions';
import { is, type SQL } from 'drizzle-orm';
import { MySqlDatabase } from 'drizzle-orm/mysql-core';
import { PgDatabase } from 'drizzle-orm/pg-core';
import type { MySqlTables } from './mysql-schema.js';
import { mysqlBookstore } from './mysql.js';
import type { PostgresTables } from './postgres-schema.js';
import { postgresBookstore } from './postgres.js';
import type { Sale } from './sale.js';

/** Which server a database talks to, as `databaseServer` tells it. */
export interface DatabaseServer {
  /** `mariadb` when a MySQL-protocol server says it is MariaDB. */
  kind: 'postgres' | 'mysql' | 'mariadb';
  /** The server's version number, e.g. `15.20` or `10.11.19`. */
  version: string;
  /** `PostgreSQL 15.20`, `MariaDB 10.11.19`, `MySQL 8.4.3`: for people. */
  label: string;
}

/**
 * Everything the bookstore does differently on PostgreSQL and on MySQL/MariaDB, and nothing
 * else: the services write their SQL once and ask this object only where the servers differ.
 * The two bookstore dialects differ by family, since MariaDB runs the MySQL schema and
 * migrations unchanged, and `FOR UPDATE` is spelt alike on all three servers.
 */
export interface BookstoreDialect {
  /** `'postgres'` or `'mysql'` (MariaDB included). */
  family: 'postgres' | 'mysql';
  tables: PostgresTables | MySqlTables;
  /** The folder under `drizzle/` holding this family's generated migrations. */
  migrationsFolder: 'pg' | 'mysql';
  /**
   * The rows `query` answers, as plain objects. Drizzle's `db.execute` answers differ per
   * driver — postgres.js an array of rows, node-postgres `{ rows }`, mysql2 `[rows, fields]` —
   * and this is the one place that knows. Runs on `db` as given (pass `current(db)` to join
   * the surrounding transaction).
   */
  rows<R>(db: Database, query: SQL): Promise<R[]>;
  /** Runs a data-changing statement on `db` and answers how many rows it matched. */
  changed(db: Database, query: SQL): Promise<number>;
  /**
   * The INSERT, made to skip rows whose primary or unique key already exists:
   * `ON CONFLICT DO NOTHING` on PostgreSQL, `ON DUPLICATE KEY UPDATE id = id` on MySQL (not
   * `INSERT IGNORE`, which would also turn CHECK and type errors into warnings).
   */
  ignoringDuplicates(insert: SQL): SQL;
  /**
   * Writes a sale: the book's quantity (one less if there is a copy and the customer exists,
   * or `newQuantity` — computed from a locked read) and, if that changed the row, the order —
   * both or neither. Returns the order id, or `undefined` when
   * the UPDATE matched no row (nothing written). PostgreSQL does it in one statement (a data-
   * modifying CTE: no transaction needed, and the row lock is held for one statement only);
   * MySQL/MariaDB in two, inside `atomic` (a savepoint when nested) — unless `inUnit` says
   * the caller's own `atomic` block already undoes everything if this throws, where a
   * savepoint would only add two statements while the row lock is held.
   */
  writeSale(db: Database, sale: Sale, options?: { inUnit?: boolean }): Promise<number | undefined>;
  /**
   * Applies the migrations in `folder` with drizzle-orm's migrator for this driver, holding a
   * server-side lock so two processes starting at once (web and worker) never both apply them.
   */
  migrate(db: Database, folder: string): Promise<void>;
  /** Which server `db` talks to (one query). */
  server(db: Database): Promise<DatabaseServer>;
}

/**
 * The bookstore dialect of `db`, from its Drizzle class (Drizzle's public `is`; no query is
 * sent). Anything but a Drizzle PostgreSQL or MySQL database (or one of its transactions) is
 * refused with an `InvalidArgumentError` naming `operation`.
 */
export function bookstoreDialectOf(db: Database, operation = 'bookstore'): BookstoreDialect {
  if (is(db, PgDatabase)) return postgresBookstore;
  if (is(db, MySqlDatabase)) return mysqlBookstore;
  throw new InvalidArgumentError(
    `${operation} needs a Drizzle PostgreSQL or MySQL database (or one of its transactions), got ${describe(db)}`,
  );
}

function describe(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return (value as object).constructor?.name ?? 'an object';
}
