import { describeDialects, race } from '@racefree/testkit';
import { InvalidArgumentError } from '@racefree/transactions';
import { eq } from 'drizzle-orm';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { beforeAll, expect, expectTypeOf, it } from 'vitest';
import {
  type Book,
  bookstoreTables,
  listBooks,
  type MySqlTables,
  migrate,
  mysqlTables,
  NotFoundError,
  type PostgresTables,
  postgresTables,
  purchase,
  restock,
  SEED_BOOKS,
  seed,
  stockReport,
} from '../src/index.js';
import { insertBook, insertCustomers } from './helpers.js';

describeDialects('catalogue', (t) => {
  beforeAll(async () => {
    await migrate(t.connection.db);
  });

  it('seeds the catalogue idempotently, even from several processes at once', async () => {
    const pool = await t.connect({ max: 5 });
    const outcome = await race(5, () => seed(pool.db));
    expect(outcome.errors).toEqual([]);
    const books = await listBooks(t.connection.db);
    expect(books.map((b) => b.isbn)).toEqual(SEED_BOOKS.map((b) => b.isbn));
    // A second seed leaves existing books alone, stock included.
    const [first] = books as [Book];
    await restock(t.connection.db, first.id, 5);
    const again = await seed(t.connection.db);
    expect(again).toHaveLength(SEED_BOOKS.length);
    expect(again[0]).toEqual({ ...first, quantity: first.quantity + 5 });
    expect(await listBooks(t.connection.db)).toHaveLength(SEED_BOOKS.length);
  });

  it('lists books as Book objects, by id', async () => {
    const books = await listBooks(t.connection.db);
    expect(books[0]).toEqual({
      id: expect.any(Number),
      isbn: SEED_BOOKS[0]?.isbn,
      title: SEED_BOOKS[0]?.title,
      priceCents: SEED_BOOKS[0]?.priceCents,
      quantity: expect.any(Number),
    });
    expect(books.map((b) => b.id)).toEqual([...books.map((b) => b.id)].sort((a, b) => a - b));
  });

  it('restocks atomically: concurrent restocks and purchases all count', async () => {
    // 20 in stock, so even the 20 purchases all landing before any restock sell out nothing:
    // 20 restocks of 3 copies race 20 purchases: 20 + 60 − 20 = 60, whatever the interleaving.
    // (With 10 it held only while purchases happened to be slow enough to interleave.)
    const bookId = await insertBook(t.connection, 20);
    const [customerId] = (await insertCustomers(t.connection, 1)) as [number];
    const pool = await t.connect({ max: 10 });
    const outcome = await race<unknown>(40, (caller) =>
      caller % 2 === 0
        ? restock(pool.db, bookId, 3)
        : purchase(pool.db, { bookId, customerId, strategy: 'atomic' }),
    );
    expect(outcome.errors).toEqual([]);
    expect(await stockReport(t.connection.db, bookId)).toEqual({
      bookId,
      quantity: 60,
      orders: 20,
    });
  });

  it('restock refuses unknown books and non-positive counts', async () => {
    await expect(restock(t.connection.db, 99_999_999, 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(restock(t.connection.db, 1, 0)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(restock(t.connection.db, 1, 2.5)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(stockReport(t.connection.db, 99_999_999)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('hands out the Drizzle tables of the database family', async () => {
    const tables = bookstoreTables(t.connection.db);
    expect(tables).toBe(t.kind === 'postgres' ? postgresTables : mysqlTables);
    // The tables work with Drizzle's own query builder too.
    const [book] = SEED_BOOKS;
    const rows =
      t.connection.kind === 'postgres'
        ? await t.connection.db
            .select()
            .from(postgresTables.books)
            .where(eq(postgresTables.books.isbn, book!.isbn))
        : await t.connection.db
            .select()
            .from(mysqlTables.books)
            .where(eq(mysqlTables.books.isbn, book!.isbn));
    expect(rows[0]).toMatchObject({ isbn: book!.isbn, priceCents: book!.priceCents });
  });
});

it('types: both schemas select the same Book shape, and bookstoreTables is typed per driver', () => {
  expectTypeOf<PostgresTables['books']['$inferSelect']>().toEqualTypeOf<Book>();
  expectTypeOf<MySqlTables['books']['$inferSelect']>().toEqualTypeOf<Book>();
  expectTypeOf<PostgresTables['orders']['$inferSelect']>().toEqualTypeOf<
    MySqlTables['orders']['$inferSelect']
  >();
  expectTypeOf<PostgresTables['customers']['$inferSelect']>().toEqualTypeOf<
    MySqlTables['customers']['$inferSelect']
  >();
  expectTypeOf<PostgresTables['sentEmails']['$inferSelect']>().toEqualTypeOf<
    MySqlTables['sentEmails']['$inferSelect']
  >();
  const pgTables = (db: PostgresJsDatabase) => bookstoreTables(db);
  const myTables = (db: MySql2Database) => bookstoreTables(db);
  expectTypeOf(pgTables).returns.toEqualTypeOf<PostgresTables>();
  expectTypeOf(myTables).returns.toEqualTypeOf<MySqlTables>();
});
