import { describeDialects } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { getOrCreate, KeyMismatchError } from '../src/index.js';
import { usePreparedStatements } from '../src/testing/index.js';

// The faster path (prepared statements kept per root database, outside transactions) must send
// what the plain path sends and answer what it answers. The same calls run through each, on
// tables of their own, and everything a caller or the server could see is compared.
let serial = 0;
const nextCode = () => `code-${++serial}`;
const pgItems = (name: string) =>
  pg.pgTable(name, {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 50 }).notNull().unique(),
    color: pg.varchar('color', { length: 20 }),
    code: pg.varchar('code', { length: 20 }).notNull().$defaultFn(nextCode),
    at: pg.timestamp('at', { mode: 'date' }),
  });
const myItems = (name: string) =>
  my.mysqlTable(name, {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 50 }).notNull().unique(),
    color: my.varchar('color', { length: 20 }),
    code: my.varchar('code', { length: 20 }).notNull().$defaultFn(nextCode),
    at: my.datetime('at', { mode: 'date' }),
  });

describeDialects('the prepared-statement path, held to the plain one', (t) => {
  const sent: string[] = [];
  afterEach(() => usePreparedStatements(true));
  beforeAll(async () => {
    for (const table of ['fast_items', 'plain_items'])
      await t.connection.query(
        `create table ${table} (id serial primary key, name varchar(50) not null, color varchar(20), code varchar(20) not null, at ${t.kind === 'postgres' ? 'timestamp' : 'datetime'}, constraint ${table}_name_unique unique (name))`,
      );
  });

  /** The same calls, on one table through one path: what each answered, and the SQL sent. */
  const run = async (table: 'fast_items' | 'plain_items', prepared: boolean) => {
    usePreparedStatements(prepared);
    const T = (t.kind === 'postgres' ? pgItems : myItems)(table);
    const db = (await t.connect({ max: 2, logger: { logQuery: (query) => sent.push(query) } })).db;
    const at = new Date('2026-12-07T10:00:00Z');
    const before = sent.length;
    const answers = [
      await getOrCreate(db, T, { where: { name: 'a' }, defaults: { color: 'red', at } }),
      await getOrCreate(db, T, { where: { name: 'a' } }),
      await getOrCreate(db, T, { where: { name: 'b' }, prefer: 'create' }),
      await getOrCreate(db, T, { where: { name: 'b' }, prefer: 'create' }),
      await getOrCreate(db, T, { where: { name: 'c', color: null } }),
      await getOrCreate(db, T, { where: { name: 'a', color: 'blue' } }).catch((error: unknown) =>
        error instanceof KeyMismatchError ? 'key mismatch' : error,
      ),
    ];
    const statements = sent.slice(before).map((query) => query.replaceAll(table, 'items'));
    const rows = await t.connection.query(
      `select id, name, color, code, at from ${table} order by id`,
    );
    return { answers, statements, rows };
  };

  it('sends the same statements and answers the same rows, $defaultFn computed per call', async () => {
    const fast = await run('fast_items', true);
    const plain = await run('plain_items', false);
    expect(fast.statements).toEqual(plain.statements);
    const codes = (rows: Record<string, unknown>[]) => rows.map((row) => row.code);
    // The $defaultFn ran for each created row, on both paths (never baked into a statement).
    expect(new Set(codes(fast.rows)).size).toBe(3);
    const withoutCodes = (value: unknown) =>
      JSON.parse(JSON.stringify(value, (key, v) => (key === 'code' ? '…' : v)));
    expect(withoutCodes(fast.answers)).toEqual(withoutCodes(plain.answers));
    expect(withoutCodes(fast.rows)).toEqual(withoutCodes(plain.rows));
    expect(
      fast.answers.map((answer) =>
        typeof answer === 'string' ? answer : (answer as { created: boolean }).created,
      ),
    ).toEqual([true, false, true, false, true, 'key mismatch']);
  });

  it('SQL given as a value, or a null, takes the plain path — and a $defaultFn still runs once per insert', async () => {
    usePreparedStatements(true);
    let calls = 0;
    const counted = () => `counted-${++calls}`;
    await t.connection.query(
      'create table counted_items (id serial primary key, name varchar(50) not null, color varchar(20), code varchar(20) not null, constraint counted_items_name_unique unique (name))',
    );
    const T =
      t.kind === 'postgres'
        ? pg.pgTable('counted_items', {
            id: pg.serial('id').primaryKey(),
            name: pg.varchar('name', { length: 50 }).notNull().unique(),
            color: pg.varchar('color', { length: 20 }),
            code: pg.varchar('code', { length: 20 }).notNull().$defaultFn(counted),
          })
        : my.mysqlTable('counted_items', {
            id: my.serial('id').primaryKey(),
            name: my.varchar('name', { length: 50 }).notNull().unique(),
            color: my.varchar('color', { length: 20 }),
            code: my.varchar('code', { length: 20 }).notNull().$defaultFn(counted),
          });
    const db = t.connection.db;
    const viaSql = await getOrCreate(
      db,
      T as never,
      {
        where: { name: 'sql' },
        defaults: { color: sql`lower('FROM SQL')` },
      } as never,
    );
    expect(calls).toBe(1);
    const withNull = await getOrCreate(
      db,
      T as never,
      {
        where: { name: 'null', color: null },
      } as never,
    );
    expect(calls).toBe(2);
    expect([viaSql, withNull].map((result) => (result as { created: boolean }).created)).toEqual([
      true,
      true,
    ]);
    const rows = await t.connection.query<{ name: string; color: string | null; code: string }>(
      'select name, color, code from counted_items order by id',
    );
    expect(rows).toEqual([
      {
        name: 'sql',
        color: 'from sql',
        code: 'counted-1',
      },
      { name: 'null', color: null, code: 'counted-2' },
    ]);
  });
});
