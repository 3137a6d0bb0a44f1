import { type AnyMySqlDatabase, atomic, type Database } from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type { BookstoreDialect } from './bookstore-dialect.js';
import { mysqlTables } from './mysql-schema.js';
import { saleUpdate } from './sale.js';

/** How long a second process waits for another's migration before giving up. */
const MIGRATION_LOCK_WAIT_SECONDS = 120;

/** mysql2 answers `[rows, fields]` for a query and `[header, fields]` for a write. */
type MySqlAnswer = [unknown, unknown];
interface ResultHeader {
  affectedRows: number;
  insertId: number;
}

function execute(db: Database, query: SQL): Promise<MySqlAnswer> {
  return (db as AnyMySqlDatabase).execute(query) as Promise<MySqlAnswer>;
}

/** The bookstore on MySQL and MariaDB (one schema and one set of migrations for both). */
export const mysqlBookstore: BookstoreDialect = {
  family: 'mysql',
  tables: mysqlTables,
  migrationsFolder: 'mysql',

  async rows<R>(db: Database, query: SQL) {
    const [rows] = await execute(db, query);
    return rows as R[];
  },

  async server(db) {
    const [row] = await this.rows<{ v: string }>(db, sql`select version() as v`);
    const full = String(row?.v ?? '');
    const version = full.split('-')[0] ?? full;
    const kind = /mariadb/i.test(full) ? 'mariadb' : 'mysql';
    return { kind, version, label: `${kind === 'mariadb' ? 'MariaDB' : 'MySQL'} ${version}` };
  },

  async changed(db, query) {
    // mysql2 connects with CLIENT_FOUND_ROWS: `affectedRows` counts matched rows, so a write
    // that leaves a value as it was still counts (the naive sale writes what another wrote).
    const [header] = await execute(db, query);
    return (header as ResultHeader).affectedRows;
  },

  ignoringDuplicates: (insert: SQL) => sql`${insert} on duplicate key update id = id`,

  writeSale(db, sale, options = {}) {
    // No data-modifying CTEs on MySQL: two statements, made one unit by `atomic` (or by the
    // caller's block, when it says it has one). The order's id comes back in the INSERT's own
    // answer: MySQL has no RETURNING.
    const write = async (tx: Database) => {
      if ((await this.changed(tx, saleUpdate(sale))) === 0) return undefined;
      const [header] = await execute(
        tx,
        sql`insert into orders (book_id, customer_id) values (${sale.bookId}, ${sale.customerId})`,
      );
      return (header as ResultHeader).insertId;
    };
    return options.inUnit ? write(db) : atomic(db, write);
  },

  async migrate(db: Database, folder: string) {
    // GET_LOCK names are server-wide, so the name carries the database. The lock belongs to the
    // session holding it: the transaction pins that session while the migrator runs on another
    // pooled connection. DDL commits implicitly on MySQL, so the lock, not a transaction, is
    // what keeps two starting processes from applying the same migration.
    const name = sql`concat('racefree_bookstore_migrate_', md5(database()))`;
    await atomic(db, async (tx) => {
      const [row] = await this.rows<{ acquired: number | null }>(
        tx,
        sql`select get_lock(${name}, ${MIGRATION_LOCK_WAIT_SECONDS}) as acquired`,
      );
      if (Number(row?.acquired) !== 1) {
        throw new Error(
          `Another process has been migrating this database for over ${MIGRATION_LOCK_WAIT_SECONDS} s; check it is not stuck, then start again.`,
        );
      }
      try {
        await migrate(db as AnyMySqlDatabase as MySql2Database, { migrationsFolder: folder });
      } finally {
        await execute(tx, sql`select release_lock(${name})`);
      }
    });
  },
};
