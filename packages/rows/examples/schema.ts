import { integer, pgTable, serial, text, unique } from 'drizzle-orm/pg-core';

/** The tables the README's examples use. */
export const tags = pgTable('tags', {
  id: serial('id').primaryKey(),
  name: text('name').notNull().unique(),
  color: text('color'),
});

export const accounts = pgTable('accounts', {
  id: integer('id').primaryKey(),
  balance: integer('balance').notNull(),
});

export const inventory = pgTable('inventory', {
  sku: text('sku').primaryKey(),
  quantity: integer('quantity').notNull(),
});

export const settings = pgTable(
  'settings',
  {
    id: serial('id').primaryKey(),
    userId: integer('user_id').notNull(),
    name: text('name').notNull(),
    value: text('value').notNull(),
  },
  (t) => [unique('settings_user_name').on(t.userId, t.name)],
);

/** Their DDL, for the test that runs the examples. */
export const EXAMPLE_DDL = [
  'create table tags (id serial primary key, name text not null constraint tags_name_unique unique, color text)',
  'create table accounts (id integer primary key, balance integer not null)',
  'create table inventory (sku text primary key, quantity integer not null)',
  'create table settings (id serial primary key, user_id integer not null, name text not null, value text not null, constraint settings_user_name unique (user_id, name))',
];
