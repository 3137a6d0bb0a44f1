import { type AnyPgDatabase, atomic, type Database } from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import type { BookstoreDialect } from './bookstore-dialect.js';
import { postgresTables } from './postgres-schema.js';
import { saleUpdate } from './sale.js';

/** postgres.js answers an array of rows (with `count`); node-postgres `{ rows, rowCount }`. */
type PgAnswer = unknown[] & { count?: number | null };
type NodePgAnswer = { rows: unknown[]; rowCount: number | null };

function execute(db: Database, query: SQL): Promise<PgAnswer | NodePgAnswer> {
  return (db as AnyPgDatabase).execute(query) as Promise<PgAnswer | NodePgAnswer>;
}

/** The bookstore on PostgreSQL. */
export const postgresBookstore: BookstoreDialect = {
  family: 'postgres',
  tables: postgresTables,
  migrationsFolder: 'pg',

  async rows<R>(db: Database, query: SQL) {
    const answer = await execute(db, query);
    return (Array.isArray(answer) ? answer : answer.rows) as R[];
  },

  async server(db) {
    const [row] = await this.rows<{ v: string }>(
      db,
      sql`select current_setting('server_version') as v`,
    );
    const version = String(row?.v ?? '').split(' ')[0] ?? '';
    return { kind: 'postgres', version, label: `PostgreSQL ${version}` };
  },

  async changed(db, query) {
    const answer = await execute(db, query);
    return Number((Array.isArray(answer) ? answer.count : answer.rowCount) ?? 0);
  },

  ignoringDuplicates: (insert: SQL) => sql`${insert} on conflict do nothing`,

  async writeSale(db, sale) {
    // The INSERT reads the UPDATE's RETURNING: no row sold, no order. One statement is atomic
    // by itself, so no BEGIN/COMMIT round trips outside a transaction, and inside one no
    // statement follows the row lock before COMMIT but this one.
    const [row] = await this.rows<{ id: number }>(
      db,
      sql`with sold as (${saleUpdate(sale)} returning id)
insert into orders (book_id, customer_id) select id, ${sale.customerId} from sold returning id`,
    );
    return row?.id;
  },

  async migrate(db: Database, folder: string) {
    // The lock is taken on the transaction's connection and lasts until it ends, while the
    // migrator runs on another pooled connection: a second process blocks here until the first
    // has finished, then finds nothing left to apply. (Advisory locks are per database.)
    await atomic(db, async (tx) => {
      await execute(tx, sql`select pg_advisory_xact_lock(hashtext('racefree.bookstore.migrate'))`);
      await migrate(db as AnyPgDatabase as PostgresJsDatabase, { migrationsFolder: folder });
    });
  },
};
