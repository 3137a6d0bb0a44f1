import type { ExtractTablesWithRelations } from 'drizzle-orm';
import { int, type MySqlTransaction, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import type {
  MySql2Database,
  MySql2PreparedQueryHKT,
  MySql2QueryResultHKT,
} from 'drizzle-orm/mysql2';
import { integer, type PgTransaction, pgTable, text } from 'drizzle-orm/pg-core';
import type { PostgresJsDatabase, PostgresJsQueryResultHKT } from 'drizzle-orm/postgres-js';
import { describe, expectTypeOf, it } from 'vitest';
import { atomic, current, onCommit, type TransactionOf } from '../src/index.js';
import { captureOnCommit, withRollback } from '../src/testing/index.js';

// Type tests: checked by `tsc` (the package's typecheck), never executed — the databases below
// are declared, not opened, and the calls sit in functions nobody calls.

const pgSchema = {
  books: pgTable('books', { id: integer('id').primaryKey(), title: text('title').notNull() }),
};
const mysqlSchema = {
  books: mysqlTable('books', {
    id: int('id').primaryKey(),
    title: varchar('title', { length: 200 }).notNull(),
  }),
};
type PgSchema = typeof pgSchema;
type MysqlSchema = typeof mysqlSchema;

declare const pgDb: PostgresJsDatabase<PgSchema>;
declare const mysqlDb: MySql2Database<MysqlSchema>;

type PgTx = PgTransaction<PostgresJsQueryResultHKT, PgSchema, ExtractTablesWithRelations<PgSchema>>;
type MysqlTx = MySqlTransaction<
  MySql2QueryResultHKT,
  MySql2PreparedQueryHKT,
  MysqlSchema,
  ExtractTablesWithRelations<MysqlSchema>
>;

describe('atomic’s types', () => {
  it('a postgres-js db hands fn its PgTransaction, schema included', () => {
    expectTypeOf<TransactionOf<typeof pgDb>>().toEqualTypeOf<PgTx>();
    const typed = () =>
      atomic(pgDb, async (tx) => {
        expectTypeOf(tx).toEqualTypeOf<PgTx>();
        expectTypeOf(tx.query.books.findFirst).toBeFunction();
        expectTypeOf(tx).not.toEqualTypeOf<MysqlTx>();
        return tx.select().from(pgSchema.books);
      });
    expectTypeOf(typed).returns.toEqualTypeOf<Promise<Array<{ id: number; title: string }>>>();
  });

  it('a mysql2 db hands fn its MySqlTransaction, schema included', () => {
    expectTypeOf<TransactionOf<typeof mysqlDb>>().toEqualTypeOf<MysqlTx>();
    const typed = () =>
      atomic(mysqlDb, async (tx) => {
        expectTypeOf(tx).toEqualTypeOf<MysqlTx>();
        expectTypeOf(tx.query.books.findMany).toBeFunction();
        return tx.select().from(mysqlSchema.books);
      });
    expectTypeOf(typed).returns.toEqualTypeOf<Promise<Array<{ id: number; title: string }>>>();
  });

  it('returns Promise<T> for async and plain functions; nested blocks get the same tx type', () => {
    const asyncValue = () => atomic(pgDb, async () => 42);
    const plainValue = () => atomic(mysqlDb, () => 'done' as const);
    const nothing = () => atomic(pgDb, async () => {});
    expectTypeOf(asyncValue).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(plainValue).returns.toEqualTypeOf<Promise<'done'>>();
    expectTypeOf(nothing).returns.toEqualTypeOf<Promise<void>>();
    const nested = () =>
      atomic(pgDb, (tx) =>
        atomic(tx, async (inner) => {
          expectTypeOf(inner).toEqualTypeOf<PgTx>();
          return { ok: true };
        }),
      );
    expectTypeOf(nested).returns.toEqualTypeOf<Promise<{ ok: boolean }>>();
  });

  it('current(db) is the db or its transaction', () => {
    const pg = () => current(pgDb);
    const my = () => current(mysqlDb);
    expectTypeOf(pg).returns.toEqualTypeOf<PostgresJsDatabase<PgSchema> | PgTx>();
    expectTypeOf(my).returns.toEqualTypeOf<MySql2Database<MysqlSchema> | MysqlTx>();
    // Either way Drizzle's query builder is there.
    const select = () => current(pgDb).select().from(pgSchema.books);
    expectTypeOf(select).returns.resolves.toEqualTypeOf<Array<{ id: number; title: string }>>();
  });

  it('withRollback and captureOnCommit keep the types; onCommit returns Promise<void>', () => {
    const rolledBack = () =>
      withRollback(mysqlDb, async (tx) => {
        expectTypeOf(tx).toEqualTypeOf<MysqlTx>();
        return 7;
      });
    expectTypeOf(rolledBack).returns.toEqualTypeOf<Promise<number>>();
    expectTypeOf(captureOnCommit).returns.toEqualTypeOf<Promise<Array<() => unknown>>>();
    expectTypeOf(onCommit).returns.toEqualTypeOf<Promise<void>>();
  });

  it('refuses, at compile time, what it would refuse at run time', () => {
    const refused = () => {
      // @ts-expect-error — not an isolation level
      void atomic(pgDb, async () => {}, { isolationLevel: 'snapshot' });
      // @ts-expect-error — retries is a number or { attempts, … }
      void atomic(pgDb, async () => {}, { retries: '3' });
      // @ts-expect-error — not a Drizzle database
      void atomic({}, async () => {});
      // @ts-expect-error — fn must be a function
      void atomic(pgDb, 42);
      void atomic(pgDb, async (tx) => {
        // @ts-expect-error — a PostgreSQL transaction is not a MySQL one
        const wrong: MysqlTx = tx;
        return wrong;
      });
    };
    expectTypeOf(refused).toBeFunction();
  });
});
