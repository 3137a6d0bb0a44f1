import {
  type AnyPgDatabase,
  atomic,
  type Database,
  executeRows,
  executeStatement,
  renderOnce,
} from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { BookstoreDialect } from './bookstore-dialect.js';
import { CUSTOMER_EXISTS, saleValues } from './sale.js';
import { postgresTables } from './postgres-schema.js';

const placeholder = sql.placeholder;
const recordOrder = sql`insert into orders (book_id, customer_id) select id, ${placeholder('customerId')} from sold returning id`;
/** One copy off, if one is left and the customer exists, and its order: one statement. */
const sellOne = renderOnce(
  sql`with sold as (update books set quantity = quantity - 1 where id = ${placeholder('bookId')} and quantity > 0${CUSTOMER_EXISTS} returning id)
${recordOrder}`,
);
/** The quantity computed from a locked read, and the order. */
const sellAt = renderOnce(
  sql`with sold as (update books set quantity = ${placeholder('quantity')} where id = ${placeholder('bookId')} returning id)
${recordOrder}`,
);

/** The bookstore on PostgreSQL. */
export const postgresBookstore: BookstoreDialect = {
  tables: postgresTables,
  migrationsFolder: 'pg',

  ignoringDuplicates: (insert: SQL) => sql`${insert} on conflict do nothing`,

  async writeSale(db, sale) {
    // The INSERT reads the UPDATE's RETURNING: no row sold, no order. One statement is atomic
    // by itself, so no BEGIN/COMMIT round trips outside a transaction, and inside one no
    // statement follows the row lock before COMMIT but this one.
    const statement = sale.newQuantity === undefined ? sellOne : sellAt;
    const [row] = await executeRows<{ id: number }>(db, statement(db, saleValues(sale)));
    return row?.id;
  },

  async migrate(db: Database, folder: string) {
    // The lock is taken on the transaction's connection and lasts until it ends, while the
    // migrator runs on another pooled connection: a second process blocks here until the first
    // has finished, then finds nothing left to apply. (Advisory locks are per database.)
    await atomic(db, async (tx) => {
      await executeStatement(
        tx,
        sql`select pg_advisory_xact_lock(hashtext('racefree.bookstore.migrate'))`,
      );
      await migrate(db as AnyPgDatabase as PostgresJsDatabase, { migrationsFolder: folder });
    });
  },
};
