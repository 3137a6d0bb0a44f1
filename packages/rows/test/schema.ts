import type { TestConnection } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';

// The same tables for both dialects; DDL written out so the test controls every constraint.
export const pgTables = {
  tags: pg.pgTable('tags', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull().unique(),
    color: pg.varchar('color', { length: 20 }),
    slug: pg.varchar('slug', { length: 100 }).unique(),
    hits: pg.integer('hits').notNull().default(0),
  }),
  counters: pg.pgTable('counters', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull().unique(),
    quantity: pg.integer('quantity').notNull(),
  }),
  memberships: pg.pgTable(
    'memberships',
    {
      id: pg.serial('id').primaryKey(),
      org: pg.integer('org').notNull(),
      userName: pg.varchar('user_name', { length: 100 }).notNull(),
      role: pg.varchar('role', { length: 20 }).notNull(),
    },
    (t) => [pg.unique('memberships_org_user').on(t.org, t.userName)],
  ),
  pairs: pg.pgTable(
    'pairs',
    {
      a: pg.integer('a').notNull(),
      b: pg.integer('b').notNull(),
      note: pg.varchar('note', { length: 100 }),
    },
    (t) => [pg.primaryKey({ columns: [t.a, t.b] })],
  ),
  loose: pg.pgTable('loose', {
    id: pg.serial('id').primaryKey(),
    name: pg.varchar('name', { length: 100 }).notNull(),
  }),
  accounts: pg.pgTable('accounts', {
    id: pg.integer('id').primaryKey(),
    balance: pg.integer('balance').notNull(),
  }),
  nokey: pg.pgTable('nokey', { name: pg.varchar('name', { length: 100 }) }),
};

export const mysqlTables = {
  tags: my.mysqlTable('tags', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull().unique(),
    color: my.varchar('color', { length: 20 }),
    slug: my.varchar('slug', { length: 100 }).unique(),
    hits: my.int('hits').notNull().default(0),
  }),
  counters: my.mysqlTable('counters', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull().unique(),
    quantity: my.int('quantity').notNull(),
  }),
  memberships: my.mysqlTable(
    'memberships',
    {
      id: my.serial('id').primaryKey(),
      org: my.int('org').notNull(),
      userName: my.varchar('user_name', { length: 100 }).notNull(),
      role: my.varchar('role', { length: 20 }).notNull(),
    },
    (t) => [my.unique('memberships_org_user').on(t.org, t.userName)],
  ),
  pairs: my.mysqlTable(
    'pairs',
    {
      a: my.int('a').notNull(),
      b: my.int('b').notNull(),
      note: my.varchar('note', { length: 100 }),
    },
    (t) => [my.primaryKey({ columns: [t.a, t.b] })],
  ),
  loose: my.mysqlTable('loose', {
    id: my.serial('id').primaryKey(),
    name: my.varchar('name', { length: 100 }).notNull(),
  }),
  accounts: my.mysqlTable('accounts', {
    id: my.int('id').primaryKey(),
    balance: my.int('balance').notNull(),
  }),
  nokey: my.mysqlTable('nokey', { name: my.varchar('name', { length: 100 }) }),
};

export type Tables = typeof pgTables | typeof mysqlTables;

const PG_DDL = [
  'create table tags (id serial primary key, name varchar(100) not null constraint tags_name_unique unique, color varchar(20), slug varchar(100) constraint tags_slug_unique unique, hits integer not null default 0)',
  'create table counters (id serial primary key, name varchar(100) not null constraint counters_name_unique unique, quantity integer not null)',
  'create table memberships (id serial primary key, org integer not null, user_name varchar(100) not null, role varchar(20) not null, constraint memberships_org_user unique (org, user_name))',
  'create table pairs (a integer not null, b integer not null, note varchar(100), primary key (a, b))',
  'create table loose (id serial primary key, name varchar(100) not null)',
  'create table accounts (id integer primary key, balance integer not null)',
  'create table nokey (name varchar(100))',
];

const MYSQL_DDL = [
  'create table tags (id serial primary key, name varchar(100) not null, color varchar(20), slug varchar(100), hits int not null default 0, constraint tags_name_unique unique (name), constraint tags_slug_unique unique (slug))',
  'create table counters (id serial primary key, name varchar(100) not null, quantity int not null, constraint counters_name_unique unique (name))',
  'create table memberships (id serial primary key, org int not null, user_name varchar(100) not null, role varchar(20) not null, constraint memberships_org_user unique (org, user_name))',
  'create table pairs (a int not null, b int not null, note varchar(100), primary key (a, b))',
  'create table loose (id serial primary key, name varchar(100) not null)',
  'create table accounts (id int primary key, balance int not null)',
  'create table nokey (name varchar(100))',
];

/** Creates the test tables and returns the Drizzle definitions for this connection's dialect. */
export async function createTables(connection: TestConnection): Promise<Tables> {
  for (const ddl of connection.kind === 'postgres' ? PG_DDL : MYSQL_DDL)
    await connection.query(ddl);
  return connection.kind === 'postgres' ? pgTables : mysqlTables;
}

/** Empties every test table. */
export async function truncateAll(connection: TestConnection): Promise<void> {
  for (const table of Object.keys(pgTables)) await connection.query(`delete from ${table}`);
}

/** Counts rows of a table, optionally filtered. */
export async function countRows(
  connection: TestConnection,
  table: string,
  where = '1=1',
): Promise<number> {
  const [row] = await connection.query<{ n: number | string }>(
    `select count(*) as n from ${table} where ${where}`,
  );
  return Number(row?.n);
}
