import type { AnyMySqlDatabase, AnyPgDatabase, Database } from '@racefree/transactions';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import type { MySqlTables } from './dialects/mysql-schema.js';
import type { PostgresTables } from './dialects/postgres-schema.js';

/**
 * The bookstore's Drizzle tables for `db`'s database family, typed for it: pass them to
 * Drizzle's query builder or to `@racefree/rows` helpers. (`postgresTables` and `mysqlTables`
 * are the same objects, for drizzle-kit schemas and code that knows its database.)
 *
 * @example
 * const { customers } = bookstoreTables(db);
 * const { row, created } = await getOrCreate(db, customers, { where: { email }, defaults: { name } });
 */
export function bookstoreTables(db: AnyPgDatabase): PostgresTables;
export function bookstoreTables(db: AnyMySqlDatabase): MySqlTables;
export function bookstoreTables(db: Database): PostgresTables | MySqlTables;
export function bookstoreTables(db: Database): PostgresTables | MySqlTables {
  return bookstoreDialectOf(db, 'bookstoreTables').tables;
}
