import { describeDialects } from '@racefree/testkit';
import { atomic, classifyError, InvalidArgumentError } from '@racefree/transactions';
import { expect, it } from 'vitest';
import { migrate } from '../src/index.js';

/** The migrations shipped in drizzle/pg and drizzle/mysql. */
const MIGRATIONS = 3;

describeDialects('migrate', (t) => {
  const applied = async () => {
    const [row] = await t.connection.query<{ n: number | string }>(
      t.kind === 'postgres'
        ? 'select count(*) as n from drizzle.__drizzle_migrations'
        : 'select count(*) as n from __drizzle_migrations',
    );
    return Number(row?.n);
  };

  it('applies the migrations once when two processes start at the same moment', async () => {
    // Two pools stand for two processes (web and worker) migrating a fresh database together.
    // Without the migration lock the loser fails with "relation already exists" (PostgreSQL)
    // or "table already exists" (MySQL).
    const [web, worker] = [await t.connect({ max: 3 }), await t.connect({ max: 3 })];
    await Promise.all([migrate(web.db), migrate(worker.db)]);
    expect(await applied()).toBe(MIGRATIONS);
    const tables = await t.connection.query<{ name: string }>(
      t.kind === 'postgres'
        ? "select table_name as name from information_schema.tables where table_schema = 'public' order by 1"
        : "select table_name as name from information_schema.tables where table_schema = database() and table_name <> '__drizzle_migrations' order by 1",
    );
    // Sorted here: the servers' collations order `book_tags` and `books` differently.
    expect(tables.map((row) => row.name).sort()).toEqual([
      'book_tags',
      'books',
      'customers',
      'lab_sign_ups',
      'lab_sign_ups_unkeyed',
      'orders',
      'sent_emails',
      'tags',
    ]);
  });

  it('is idempotent: applying again changes nothing and keeps the data', async () => {
    await t.connection.query(
      "insert into books (isbn, title, price_cents, quantity) values ('keep-me', 'Kept', 100, 3)",
    );
    await migrate(t.connection.db);
    await migrate(t.connection.db);
    expect(await applied()).toBe(MIGRATIONS);
    const [row] = await t.connection.query<{ quantity: number }>(
      "select quantity from books where isbn = 'keep-me'",
    );
    expect(row?.quantity).toBe(3);
  });

  it('has a CHECK constraint that rejects a negative quantity', async () => {
    const error = await t.connection
      .query("update books set quantity = -1 where isbn = 'keep-me'")
      .catch((e: unknown) => e);
    expect(classifyError(error)).toMatchObject({ kind: 'check_violation' });
    const insert = await t.connection
      .query(
        "insert into books (isbn, title, price_cents, quantity) values ('negative', 'No', 100, -5)",
      )
      .catch((e: unknown) => e);
    expect(classifyError(insert)).toMatchObject({ kind: 'check_violation' });
    const [row] = await t.connection.query<{ quantity: number }>(
      "select quantity from books where isbn = 'keep-me'",
    );
    expect(row?.quantity).toBe(3);
  });

  it('refuses to run inside a transaction', async () => {
    await expect(atomic(t.connection.db, () => migrate(t.connection.db))).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
