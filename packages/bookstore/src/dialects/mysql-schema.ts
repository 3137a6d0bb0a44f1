// The bookstore tables for MySQL and MariaDB, column for column the same as
// postgres-schema.ts. drizzle-kit reads this file (drizzle.mysql.config.ts) to generate
// drizzle/mysql; it must import nothing but drizzle-orm so generating needs no build.
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  int,
  mysqlTable,
  primaryKey,
  timestamp,
  unique,
  varchar,
} from 'drizzle-orm/mysql-core';

/**
 * Books for sale. `quantity` can never go below zero: the CHECK constraint (enforced from
 * MySQL 8.0.16 and MariaDB 10.2) is the last line of defence against an oversell.
 */
export const books = mysqlTable(
  'books',
  {
    id: int('id').autoincrement().primaryKey(),
    isbn: varchar('isbn', { length: 17 }).notNull(),
    title: varchar('title', { length: 300 }).notNull(),
    priceCents: int('price_cents').notNull(),
    quantity: int('quantity').notNull().default(0),
  },
  (t) => [
    unique('books_isbn_unique').on(t.isbn),
    check('books_quantity_nonnegative', sql`${t.quantity} >= 0`),
    check('books_price_nonnegative', sql`${t.priceCents} >= 0`),
  ],
);

/** The columns of a sign-up: customers, and the race lab's sign-ups, have the same. */
const signUpColumns = () => ({
  id: int('id').autoincrement().primaryKey(),
  email: varchar('email', { length: 320 }).notNull(),
  name: varchar('name', { length: 200 }).notNull(),
});

/** Customers; the unique email is what makes sign-up's get-or-create race-free. */
export const customers = mysqlTable('customers', signUpColumns(), (t) => [
  unique('customers_email_unique').on(t.email),
]);

/** One row per copy sold. */
export const orders = mysqlTable(
  'orders',
  {
    id: int('id').autoincrement().primaryKey(),
    bookId: int('book_id')
      .notNull()
      .references(() => books.id),
    customerId: int('customer_id')
      .notNull()
      .references(() => customers.id),
    createdAt: timestamp('created_at', { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (t) => [
    index('orders_book_id_idx').on(t.bookId),
    index('orders_customer_id_idx').on(t.customerId),
  ],
);

/**
 * Emails the worker has sent. Unique per (customer, kind): a retried job that tries to send the
 * same email again hits the constraint instead of mailing twice.
 */
export const sentEmails = mysqlTable(
  'sent_emails',
  {
    id: int('id').autoincrement().primaryKey(),
    customerId: int('customer_id')
      .notNull()
      .references(() => customers.id),
    kind: varchar('kind', { length: 50 }).notNull(),
    sentAt: timestamp('sent_at', { fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (t) => [unique('sent_emails_customer_kind_unique').on(t.customerId, t.kind)],
);

/**
 * The race lab's sign-ups, with the unique email a race-free get-or-create needs. Kept apart
 * from `customers`, so a lab run never touches real customers.
 */
export const labSignUps = mysqlTable('lab_sign_ups', signUpColumns(), (t) => [
  unique('lab_sign_ups_email_unique').on(t.email),
]);

/**
 * The same sign-ups without the unique key: what a select-then-insert sign-up duplicates
 * under concurrency, and what `getOrCreate` refuses (no key, no race-free get-or-create).
 */
export const labSignUpsUnkeyed = mysqlTable('lab_sign_ups_unkeyed', signUpColumns());

/** Tags for books; the unique name is what lets concurrent taggers get-or-create them. */
export const tags = mysqlTable(
  'tags',
  {
    id: int('id').autoincrement().primaryKey(),
    name: varchar('name', { length: 40 }).notNull(),
  },
  (t) => [unique('tags_name_unique').on(t.name)],
);

/**
 * Which book has which tag. The (book, tag) primary key makes tagging idempotent: a link is
 * get-or-created, never inserted twice. Deleting a book or a tag takes its links with it.
 */
export const bookTags = mysqlTable(
  'book_tags',
  {
    bookId: int('book_id')
      .notNull()
      .references(() => books.id, { onDelete: 'cascade' }),
    tagId: int('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.bookId, t.tagId] }), index('book_tags_tag_id_idx').on(t.tagId)],
);

/** The bookstore's Drizzle tables for MySQL and MariaDB (`mysql-core`). */
export const mysqlTables = {
  books,
  customers,
  orders,
  sentEmails,
  labSignUps,
  labSignUpsUnkeyed,
  tags,
  bookTags,
};
/** The type of `mysqlTables`. */
export type MySqlTables = typeof mysqlTables;
