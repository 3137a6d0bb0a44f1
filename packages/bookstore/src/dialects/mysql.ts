import {
  type AnyMySqlDatabase,
  atomic,
  type Database,
  executeInsert,
  executeRows,
  executeStatement,
  renderOnce,
} from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import type { BookstoreDialect } from './bookstore-dialect.js';
import { CUSTOMER_EXISTS, saleValues } from './sale.js';
import { mysqlTables } from './mysql-schema.js';

/** How long a second process waits for another's migration before giving up. */
const MIGRATION_LOCK_WAIT_SECONDS = 120;

/** One copy off, if one is left and the customer exists. */
const takeOne = renderOnce(
  sql`update books set quantity = quantity - 1 where id = ${sql.placeholder('bookId')} and quantity > 0${CUSTOMER_EXISTS}`,
);
/** The quantity computed from a locked read. */
const setQuantity = renderOnce(
  sql`update books set quantity = ${sql.placeholder('quantity')} where id = ${sql.placeholder('bookId')}`,
);
/** The order (its id comes back in the INSERT's own answer: MySQL has no RETURNING). */
const recordOrder = renderOnce(
  sql`insert into orders (book_id, customer_id) values (${sql.placeholder('bookId')}, ${sql.placeholder('customerId')})`,
);

/** The bookstore on MySQL and MariaDB (one schema and one set of migrations for both). */
export const mysqlBookstore: BookstoreDialect = {
  tables: mysqlTables,
  migrationsFolder: 'mysql',

  ignoringDuplicates: (insert: SQL) => sql`${insert} on duplicate key update id = id`,

  writeSale(db, sale, options = {}) {
    // No data-modifying CTEs on MySQL: two statements, made one unit by `atomic` (or by the
    // caller's block, when it says it has one).
    const update = sale.newQuantity === undefined ? takeOne : setQuantity;
    const write = async (tx: Database) => {
      const values = saleValues(sale);
      const sold = await executeStatement(tx, update(tx, values));
      if (sold === 0) return undefined;
      return (await executeInsert(tx, recordOrder(tx, values))).insertId;
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
      const [row] = await executeRows<{ acquired: number | null }>(
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
        await executeRows(tx, sql`select release_lock(${name})`);
      }
    });
  },
};
