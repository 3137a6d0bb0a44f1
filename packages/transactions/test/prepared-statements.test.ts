import {
  behindTransactionPooler,
  createPostgresTestDatabase,
  postgresAdminUrl,
  type TestDatabase,
} from '@racefree/testkit';
import { eq, sql } from 'drizzle-orm';
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/postgres-js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomic } from '../src/index.js';
import { executeRows, executeStatement, runQuery } from '../src/internal.js';

// runQuery prepares Drizzle's query builders on postgres.js (Drizzle's documented `.prepare()`):
// one round trip per use instead of a describe round trip every time. Each test runs on a pool
// of ONE connection, so pg_prepared_statements — which is per session — shows what that
// connection holds.
// drizzle-orm 0.44's postgres-js session never asks postgres.js to prepare (0.45 does when a
// query is `.prepare()`d): there racefree's statements stay unprepared — two round trips each —
// and nothing racefree can do through Drizzle's public API changes that.
const drizzleVersion = (
  JSON.parse(
    readFileSync(
      join(dirname(createRequire(import.meta.url).resolve('drizzle-orm')), 'package.json'),
      'utf8',
    ),
  ) as { version: string }
).version;
const PREPARED = drizzleVersion.startsWith('0.44.') ? 0 : 1;

const items = pgTable('items', { id: integer('id').primaryKey(), name: text('name').notNull() });
// Behind a transaction pooler each statement may land on another server connection, whose
// pg_prepared_statements is not this client's: what these tests count only means something on
// a direct connection (the pooler run covers prepare: false through the suites' own clients).
describe.skipIf(behindTransactionPooler())('prepared statements on postgres.js', () => {
  let database: TestDatabase;
  const clients: postgres.Sql[] = [];

  function connect(options: { prepare?: boolean } = {}) {
    const client = postgres(database.url, {
      max: 1,
      onnotice: () => {},
      // Only when given: postgres.js reads a present-but-undefined `prepare` as "off".
      ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
    });
    clients.push(client);
    const db = drizzle({ client });
    const prepared = async () =>
      (
        await executeRows<{ n: number }>(
          db,
          // No parameter: this probe itself is never prepared.
          sql.raw(
            `select count(*)::int as n from pg_prepared_statements where statement like '%"items"%' and statement not like '%pg_prepared_statements%'`,
          ),
        )
      )[0]?.n;
    return { db, prepared };
  }

  beforeAll(async () => {
    database = await createPostgresTestDatabase(postgresAdminUrl(), 'prepared');
    const { db } = connect();
    await executeStatement(db, sql`create table items (id int primary key, name text not null)`);
    await executeStatement(db, sql`insert into items values (1, 'one'), (2, 'two')`);
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.end({ timeout: 1 })));
    await database.drop();
  });

  it('prepares a builder once per connection and reuses it, rows mapped as Drizzle maps them', async () => {
    const { db, prepared } = connect();
    for (const id of [1, 2, 1]) {
      const rows = await runQuery(db, db.select().from(items).where(eq(items.id, id)));
      expect(rows).toEqual([{ id, name: id === 1 ? 'one' : 'two' }]);
    }
    expect(await prepared()).toBe(PREPARED);
  });

  it('prepares inside a transaction too, on the transaction’s own connection', async () => {
    const { db, prepared } = connect();
    await atomic(db, async (tx) => {
      const [row] = await runQuery(
        tx,
        tx.update(items).set({ name: 'uno' }).where(eq(items.id, 1)).returning(),
      );
      expect(row).toEqual({ id: 1, name: 'uno' });
      throw new Error('roll back');
    }).catch(() => undefined);
    expect(await prepared()).toBe(PREPARED);
    expect(await runQuery(db, db.select().from(items).where(eq(items.id, 1)))).toEqual([
      { id: 1, name: 'one' },
    ]);
  });

  it('respects a client created with prepare: false (PgBouncer in transaction mode)', async () => {
    const { db, prepared } = connect({ prepare: false });
    const rows = await runQuery(db, db.select({ id: items.id }).from(items).where(eq(items.id, 2)));
    expect(rows).toEqual([{ id: 2 }]);
    expect(await prepared()).toBe(0);
  });
});
