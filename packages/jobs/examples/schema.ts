import { mysqlTable, serial as mysqlSerial, varchar } from 'drizzle-orm/mysql-core';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';

/** The tables the README's examples use (PostgreSQL). */
export const users = pgTable('users', {
  id: serial('id').primaryKey(),
  email: text('email').notNull().unique(),
});

/** One row per welcome email sent: what makes the task idempotent. */
export const sentEmails = pgTable('sent_emails', {
  userId: integer('user_id').primaryKey(),
});

/** The MySQL/MariaDB example's users. */
export const mysqlUsers = mysqlTable('users', {
  id: mysqlSerial('id').primaryKey(),
  email: varchar('email', { length: 255 }).notNull().unique(),
});

/** Their DDL, for the test that runs the examples. */
export const EXAMPLE_DDL = {
  postgres: [
    'create table users (id serial primary key, email text not null unique)',
    'create table sent_emails (user_id integer primary key)',
  ],
  mysql: [
    'create table users (id bigint unsigned not null auto_increment primary key, email varchar(255) not null unique) engine=InnoDB',
  ],
};

/** Where the welcome email goes: the examples' stand-in for a mailer. */
export interface Mailer {
  welcome(userId: number): Promise<void> | void;
}
