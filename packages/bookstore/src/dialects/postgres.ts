import {
  type AnyPgDatabase,
  atomic,
  type Database,
  executeRows,
  executeStatement,
} from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { BookstoreDialect } from './bookstore-dialect.js';
import { postgresTables } from './postgres-schema.js';

/** The bookstore on PostgreSQL. */
export const postgresBookstore: BookstoreDialect = {
  tables: postgresTables,
  migrationsFolder: 'pg',

  ignoringDuplicates: (insert: SQL) => sql`${insert} on conflict do nothing`,

  async writeSale(db, { bookId, customerId, quantity, condition }) {
    // The INSERT reads the UPDATE's RETURNING: no row sold, no order. One statement is atomic
    // by itself, so no BEGIN/COMMIT round trips outside a transaction, and inside one no
    // statement follows the row lock before COMMIT but this one.
    const [row] = await executeRows<{ id: number }>(
      db,
      sql`with sold as (update books set quantity = ${quantity} where id = ${bookId}${condition} returning id)
insert into orders (book_id, customer_id) select id, ${customerId} from sold returning id`,
    );
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
