import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  executeRows,
  executeStatement,
  renderOnce,
  renderQuery,
} from '../src/index.js';

// executeRows / executeStatement prepare parameterized statements on postgres.js (one round trip
// per use instead of a describe round trip every time). Each test runs on a pool of ONE
// connection, so pg_prepared_statements — which is per session — shows what that connection
// holds.
let database: TestDatabase;
const clients: postgres.Sql[] = [];

function connect(options: { prepare?: boolean; log?: string[] } = {}) {
  const client = postgres(database.url, {
    max: 1,
    onnotice: () => {},
    // Only when given: postgres.js reads a present-but-undefined `prepare` as "off".
    ...(options.prepare === undefined ? {} : { prepare: options.prepare }),
  });
  clients.push(client);
  const db = drizzle({
    client,
    logger: options.log ? { logQuery: (query) => options.log?.push(query) } : false,
  });
  const preparedLike = async (fragment: string) =>
    (
      await executeRows<{ n: number }>(
        db,
        // No parameter: this probe itself is never prepared.
        sql.raw(
          `select count(*)::int as n from pg_prepared_statements where statement like '%${fragment}%' and statement not like '%pg_prepared_statements%'`,
        ),
      )
    )[0]?.n;
  return { client, db, preparedLike };
}

beforeAll(async () => {
  database = await createPostgresTestDatabase(postgresAdminUrl(), 'prepared');
  const { db } = connect();
  await executeStatement(db, sql`create table items (id int primary key, name text not null)`);
  await executeStatement(db, sql`insert into items values (1, 'one'), (2, 'two')`);
});
afterAll(async () => {
  for (const client of clients) await client.end({ timeout: 1 });
  await database?.drop();
});

it('prepares a parameterized statement once per connection and reuses it', async () => {
  const { db, preparedLike } = connect();
  for (const id of [1, 2, 1]) {
    const rows = await executeRows<{ id: number; name: string }>(
      db,
      sql`select id, name from items where id = ${id} /* reuse */`,
    );
    expect(rows).toEqual([{ id, name: id === 1 ? 'one' : 'two' }]);
  }
  expect(await preparedLike('/* reuse */')).toBe(1);
});

it('prepares inside a transaction too, and the rows and counts are the same', async () => {
  const { db, preparedLike } = connect();
  const updated = await atomic(db, async (tx) => {
    const count = await executeStatement(
      tx,
      sql`update items set name = ${'uno'} where id = ${1} /* in-tx */`,
    );
    const rows = await executeRows(tx, sql`select name from items where id = ${1} /* in-tx */`);
    expect(rows).toEqual([{ name: 'uno' }]);
    throw Object.assign(new Error('roll back'), { count });
  }).catch((error: { count?: number }) => error.count);
  expect(updated).toBe(1);
  expect(await preparedLike('/* in-tx */')).toBe(2);
  const [row] = await executeRows(db, sql`select name from items where id = ${1}`);
  expect(row).toEqual({ name: 'one' });
});

it('leaves statements without parameters unnamed (DDL, transaction control)', async () => {
  const { db, preparedLike } = connect();
  await executeRows(db, sql`select count(*) from items /* no-params */`);
  expect(await preparedLike('/* no-params */')).toBe(0);
});

it('respects a client created with prepare: false (PgBouncer in transaction mode)', async () => {
  const { db, preparedLike } = connect({ prepare: false });
  const rows = await executeRows(db, sql`select id from items where id = ${2} /* bouncer */`);
  expect(rows).toEqual([{ id: 2 }]);
  expect(await preparedLike('/* bouncer */')).toBe(0);
});

it("goes through Drizzle's query path: a configured logger still sees every statement", async () => {
  const log: string[] = [];
  const { db } = connect({ log });
  await executeRows(db, sql`select id from items where id = ${1} /* logged */`);
  expect(log.filter((line) => line.includes('/* logged */'))).toHaveLength(1);
});

it('runs a statement rendered once (text + parameters) like the template it came from', async () => {
  const { db, preparedLike } = connect();
  const rendered = renderQuery(db, sql`select name from items where id = ${1} /* rendered */`);
  expect(rendered.params).toEqual([1]);
  for (const id of [1, 2]) {
    const rows = await executeRows(db, { sql: rendered.sql, params: [id] });
    expect(rows).toEqual([{ name: id === 1 ? 'one' : 'two' }]);
  }
  expect(await preparedLike('/* rendered */')).toBe(1);
});

it("fails the way Drizzle's query path fails: DrizzleQueryError, the driver's error as cause", async () => {
  const log: string[] = [];
  const { db } = connect({ log });
  const error = await executeStatement(
    db,
    sql`insert into items values (${1}, ${'again'}) /* duplicate */`,
  ).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DrizzleQueryError);
  expect((error as DrizzleQueryError).cause).toMatchObject({ code: '23505' });
  expect(classifyError(error).kind).toBe('unique_violation');
  expect(log.filter((line) => line.includes('/* duplicate */'))).toHaveLength(1);
});

it('renderOnce: one rendering, new values on every call, a missing value refused', async () => {
  const { db, preparedLike } = connect();
  const byId = renderOnce(
    sql`select name from items where id = ${sql.placeholder('id')} /* render-once */`,
  );
  const first = byId(db, { id: 1 });
  const second = byId(db, { id: 2 });
  expect(second.sql).toBe(first.sql);
  expect([first.params, second.params]).toEqual([[1], [2]]);
  expect(await executeRows(db, first)).toEqual([{ name: 'one' }]);
  expect(await atomic(db, (tx) => executeRows(tx, byId(tx, { id: 2 })))).toEqual([{ name: 'two' }]);
  expect(() => byId(db, {})).toThrow(/placeholder "id"/);
  expect(await preparedLike('/* render-once */')).toBe(1);
});
