import { pgTable, serial, text } from 'drizzle-orm/pg-core';

/** The tables the README's examples use. */
export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  email: text('email').notNull().unique(),
});

/** Their DDL, for the test that runs the examples. */
export const EXAMPLE_DDL = [
  'create table users (id serial primary key, email text not null, constraint users_email_unique unique (email))',
];
