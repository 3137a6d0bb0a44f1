import { type Database, executeRows } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { getOrCreate, refresh, updateOrCreate } from '../src/index.js';
import { PREFER_CREATE_STATEMENTS, pinPreferCreate } from './pin-prefer-create.js';

// racefree renders each statement's text once per table and shape, then sends only new
// parameters. These tests hold the cache to what rendering every call would do: values never
// leak from one call into another, a null changes the text (IS NULL), generated values are
// generated per call, and a column type that encodes to SQL is rendered in full.

let serial = 0;
const nextCode = () => `gen-${++serial}`;

// A type whose driver value is SQL: a plain parameter cannot carry it.
const pgUpper = pg.customType<{ data: string; driverData: string }>({
  dataType: () => 'varchar(100)',
  toDriver: (value) => sql`upper(${value})` as unknown as string,
});
const myUpper = my.customType<{ data: string; driverData: string }>({
  dataType: () => 'varchar(100)',
  toDriver: (value) => sql`upper(${value})` as unknown as string,
});

const pgT = {
  gadgets: pg.pgTable('gadgets', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull().unique(),
    code: pg
      .varchar('code', { length: 100 })
      .notNull()
      .$defaultFn(() => nextCode()),
    note: pg.varchar('note', { length: 100 }),
    touched: pg
      .integer('touched')
      .notNull()
      .default(0)
      .$onUpdate(() => 7),
  }),
  shouts: pg.pgTable('shouts', {
    id: pg.serial('id').primaryKey(),
    word: pg.varchar('word', { length: 100 }).notNull().unique(),
    loud: pgUpper('loud'),
  }),
  crates: pg.pgTable('crates', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull().unique(),
    size: pg.integer('size').notNull().default(0),
  }),
  labels: pg.pgTable('labels', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull().unique(),
    code: pg.varchar('code', { length: 100 }).notNull().unique(),
  }),
  loose: pg.pgTable('loose_pairs', {
    id: pg.serial('id').primaryKey(),
    a: pg.varchar('a', { length: 100 }),
    b: pg.varchar('b', { length: 100 }),
  }),
};
const myT = {
  gadgets: my.mysqlTable('gadgets', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull().unique(),
    code: my
      .varchar('code', { length: 100 })
      .notNull()
      .$defaultFn(() => nextCode()),
    note: my.varchar('note', { length: 100 }),
    touched: my
      .int('touched')
      .notNull()
      .default(0)
      .$onUpdate(() => 7),
  }),
  shouts: my.mysqlTable('shouts', {
    id: my.serial('id').primaryKey(),
    word: my.varchar('word', { length: 100 }).notNull().unique(),
    loud: myUpper('loud'),
  }),
  crates: my.mysqlTable('crates', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull().unique(),
    size: my.int('size').notNull().default(0),
  }),
  labels: my.mysqlTable('labels', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull().unique(),
    code: my.varchar('code', { length: 100 }).notNull().unique(),
  }),
  loose: my.mysqlTable('loose_pairs', {
    id: my.serial('id').primaryKey(),
    a: my.varchar('a', { length: 100 }),
    b: my.varchar('b', { length: 100 }),
  }),
};

const DDL = [
  'create table gadgets (id serial primary key, name varchar(100) not null unique, code varchar(100) not null, note varchar(100), touched integer not null default 0)',
  'create table shouts (id serial primary key, word varchar(100) not null unique, loud varchar(100))',
  'create table crates (id serial primary key, name varchar(100) not null unique, size integer not null default 0)',
  'create table labels (id serial primary key, name varchar(100) not null unique, code varchar(100) not null unique)',
  'create table loose_pairs (id serial primary key, a varchar(100), b varchar(100))',
];

describeDialects('statements rendered once per shape', (t) => {
  let T: typeof pgT | typeof myT;
  let conn: TestConnection;
  const logged: string[] = [];
  const db = () => conn.db as Database;
  beforeAll(async () => {
    for (const ddl of DDL) await t.connection.query(ddl);
    T = t.kind === 'postgres' ? pgT : myT;
    conn = await t.connect({ max: 2, logger: { logQuery: (query) => logged.push(query) } });
  });
  afterAll(() => conn?.close());
  // A pin (pinPreferCreate) is dropped after every test, failed or not.
  afterEach(() => {
    pinPreferCreate(T.gadgets, { name: 'any' }, undefined);
    pinPreferCreate(T.shouts, { word: 'any' }, undefined);
    pinPreferCreate(T.crates, { name: 'any' }, undefined);
    pinPreferCreate(T.labels, { name: 'any' }, undefined);
    pinPreferCreate(T.labels, { code: 'any' }, undefined);
  });

  it('renders each text once, and sends each call its own values through it', async () => {
    logged.length = 0;
    // Count Drizzle renderings on this database (its transactions share the dialect object).
    const dialect = (conn.db as unknown as { dialect: { sqlToQuery: (q: unknown) => unknown } })
      .dialect;
    const sqlToQuery = dialect.sqlToQuery.bind(dialect);
    let renders = 0;
    dialect.sqlToQuery = (query) => {
      renders += 1;
      return sqlToQuery(query);
    };
    const names = ['a', 'b', 'c', 'a', 'b'];
    const results = [];
    for (const name of names)
      results.push(
        await getOrCreate(db(), T.gadgets, { where: { name }, defaults: { note: `n-${name}` } }),
      );
    expect(results.map((r) => [r.row.name, r.row.note, r.created])).toEqual([
      ['a', 'n-a', true],
      ['b', 'n-b', true],
      ['c', 'n-c', true],
      ['a', 'n-a', false],
      ['b', 'n-b', false],
    ]);
    // Found rows carry the values their creator wrote, not the last call's.
    expect(results[3]?.row).toEqual(results[0]?.row);
    // One text for the five lookups, however many calls (the values travel as parameters).
    const lookups = logged.filter((q) => /^select .* from .gadgets. where .* limit 2$/.test(q));
    expect(lookups).toHaveLength(5);
    expect(new Set(lookups).size).toBe(1);
    // Every distinct text (the dialect probe's included) was rendered exactly once: with a
    // render per call there would be one per logged statement.
    expect(logged.length).toBeGreaterThan(new Set(logged).size);
    expect(renders).toBe(new Set(logged).size);
    dialect.sqlToQuery = sqlToQuery;
  });

  it.each(PREFER_CREATE_STATEMENTS)(
    'runs $defaultFn on every created row, never reusing a cached value ($statement)',
    async ({ statement, combined }) => {
      pinPreferCreate(T.gadgets, { name: 'any' }, combined);
      const created = [];
      for (const name of ['d1', 'd2', 'd3'])
        created.push(
          (
            await getOrCreate(db(), T.gadgets, {
              where: { name: `${name}-${statement}` },
              prefer: 'create',
            })
          ).row,
        );
      const codes = created.map((row) => row.code);
      expect(new Set(codes).size).toBe(3);
      for (const code of codes) expect(code).toMatch(/^gen-\d+$/);
    },
  );

  it.each([
    { prefer: 'get' as const, statement: 'read first', combined: undefined },
    ...PREFER_CREATE_STATEMENTS.map((s) => ({ prefer: 'create' as const, ...s })),
  ])(
    'sends each column set its own INSERT, however the sets alternate on one key ($statement)',
    async ({ prefer, statement, combined }) => {
      if (prefer === 'create') pinPreferCreate(T.crates, { name: 'any' }, combined);
      // Without `size`, with it, without again, with again. `size` is NOT NULL with a server
      // default: a text kept for the wrong column set either sends it a null (an error) or
      // leaves it out (the default 0 instead of 5), whichever set came first.
      const given = [undefined, 5, undefined, 5];
      const rows = [];
      for (const [i, size] of given.entries()) {
        const { row, created } = await getOrCreate(db(), T.crates, {
          where: { name: `sets-${statement}-${i}` },
          ...(size === undefined ? {} : { defaults: { size } }),
          prefer,
        });
        expect(created).toBe(true);
        rows.push(row);
      }
      const stored = await t.connection.query<{ size: number | string }>(
        `select size from crates where name like 'sets-${statement}-%' order by name`,
      );
      expect(stored.map((r) => Number(r.size))).toEqual([0, 5, 0, 5]);
      expect(rows.map((r) => r.size)).toEqual([0, 5, 0, 5]);
    },
  );

  it.each(PREFER_CREATE_STATEMENTS)(
    'keeps each unique key its own conflict target, with the same columns inserted ($statement)',
    async ({ statement, combined }) => {
      pinPreferCreate(T.labels, { name: 'any' }, combined);
      pinPreferCreate(T.labels, { code: 'any' }, combined);
      const name = `label-${statement}`;
      const code = `code-${statement}`;
      const first = await getOrCreate(db(), T.labels, {
        where: { name },
        defaults: { code },
        prefer: 'create',
      });
      expect(first.created).toBe(true);
      // Same columns, the other key: its row exists. A text kept with the first key's conflict
      // target would let the code's unique violation escape (ON CONFLICT (name) does not
      // cover it) instead of finding the row.
      const second = await getOrCreate(db(), T.labels, {
        where: { code },
        defaults: { name: `${name}-other` },
        prefer: 'create',
      });
      expect(second).toEqual({ row: first.row, created: false });
    },
  );

  it('applies $onUpdate on every update, and keeps set and where values apart', async () => {
    await getOrCreate(db(), T.gadgets, { where: { name: 'u1' } });
    const first = await updateOrCreate(db(), T.gadgets, {
      where: { name: 'u1' },
      set: { note: 'first' },
    });
    expect(first).toMatchObject({ created: false, row: { name: 'u1', note: 'first', touched: 7 } });
    // The same shape with other values, and a set that names a where column's key with its own value.
    const renamed = await updateOrCreate(db(), T.gadgets, {
      where: { id: first.row.id },
      set: { name: 'u1-renamed', note: null },
    });
    expect(renamed.row).toMatchObject({ id: first.row.id, name: 'u1-renamed', note: null });
    const rows = await t.connection.query<{ name: string }>(
      `select name from gadgets where id = ${Number(first.row.id)}`,
    );
    expect(rows).toEqual([{ name: 'u1-renamed' }]);
  });

  it('renders a null as IS NULL, and a later non-null call of the same columns as a parameter', async () => {
    const opts = { allowWithoutUniqueKey: true } as const;
    const nullB = await getOrCreate(db(), T.loose, { where: { a: 'x', b: null }, ...opts });
    const withB = await getOrCreate(db(), T.loose, { where: { a: 'x', b: 'y' }, ...opts });
    const nullAgain = await getOrCreate(db(), T.loose, { where: { a: 'x', b: null }, ...opts });
    const withBAgain = await getOrCreate(db(), T.loose, { where: { a: 'x', b: 'y' }, ...opts });
    expect([nullB.created, withB.created, nullAgain.created, withBAgain.created]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(nullAgain.row.id).toBe(nullB.row.id);
    expect(withBAgain.row.id).toBe(withB.row.id);
    expect(withB.row.id).not.toBe(nullB.row.id);
  });

  it.each(PREFER_CREATE_STATEMENTS)(
    'renders in full a column type whose driver value is SQL ($statement)',
    async ({ statement, combined }) => {
      pinPreferCreate(T.shouts, { word: 'any' }, combined);
      for (const word of [`hey-${statement}`, `ho-${statement}`]) {
        const { row } = await getOrCreate(db(), T.shouts, {
          where: { word },
          defaults: { loud: word },
          prefer: 'create',
        });
        const [stored] = await t.connection.query<{ loud: string }>(
          `select loud from shouts where id = ${Number(row.id)}`,
        );
        expect(stored?.loud).toBe(word.toUpperCase());
      }
    },
  );

  it('refresh reads each row by its own key through one text', async () => {
    const a = (await getOrCreate(db(), T.gadgets, { where: { name: 'r-a' } })).row;
    const b = (await getOrCreate(db(), T.gadgets, { where: { name: 'r-b' } })).row;
    await t.connection.query(`update gadgets set note = 'changed' where id = ${Number(b.id)}`);
    expect((await refresh(db(), T.gadgets, a)).note).toBeNull();
    expect((await refresh(db(), T.gadgets, b)).note).toBe('changed');
  });

  it('still works past the per-table shape limit', async () => {
    // 300 distinct shapes: the where key order is part of the shape (one text per order).
    const columns = ['a', 'b'] as const;
    let made = 0;
    for (let i = 0; i < 300; i++) {
      const where: Record<string, string | null> = {};
      const order = i % 2 === 0 ? columns : [...columns].reverse();
      for (const c of order) where[c] = `${c}${i}`;
      const { created } = await getOrCreate(db(), T.loose, {
        where: where as { a: string; b: string },
        allowWithoutUniqueKey: true,
      });
      if (created) made++;
    }
    expect(made).toBe(300);
    const [{ n } = { n: 0 }] = await executeRows<{ n: number | string }>(
      db(),
      sql`select count(*) as n from loose_pairs where a like 'a%'`,
    );
    expect(Number(n)).toBe(300);
  });
});
