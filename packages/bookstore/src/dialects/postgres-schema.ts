// The bookstore tables for PostgreSQL. drizzle-kit reads this file (drizzle.pg.config.ts) to
// generate drizzle/pg; it must import nothing but drizzle-orm so generating needs no build.
import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  timestamp,
  unique,
  varchar,
} from 'drizzle-orm/pg-core';

/**
 * Books for sale. `quantity` can never go below zero: the CHECK constraint is the last line of
 * defence against an oversell, whatever the application code does. Prices are integer cents.
 */
export const books = pgTable(
  'books',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    isbn: varchar('isbn', { length: 17 }).notNull(),
    title: varchar('title', { length: 300 }).notNull(),
    priceCents: integer('price_cents').notNull(),
    quantity: integer('quantity').notNull().default(0),
  },
  (t) => [
    unique('books_isbn_unique').on(t.isbn),
    check('books_quantity_nonnegative', sql`${t.quantity} >= 0`),
    check('books_price_nonnegative', sql`${t.priceCents} >= 0`),
  ],
);

/** The columns of a sign-up: customers, and the race lab's sign-ups, have the same. */
const signUpColumns = () => ({
  id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
  email: varchar('email', { length: 320 }).notNull(),
  name: varchar('name', { length: 200 }).notNull(),
});

/** Customers; the unique email is what makes sign-up's get-or-create race-free. */
export const customers = pgTable('customers', signUpColumns(), (t) => [
  unique('customers_email_unique').on(t.email),
]);

/** One row per copy sold. */
export const orders = pgTable(
  'orders',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    bookId: integer('book_id')
      .notNull()
      .references(() => books.id),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id),
    createdAt: timestamp('created_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
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
export const sentEmails = pgTable(
  'sent_emails',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    customerId: integer('customer_id')
      .notNull()
      .references(() => customers.id),
    kind: varchar('kind', { length: 50 }).notNull(),
    sentAt: timestamp('sent_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [unique('sent_emails_customer_kind_unique').on(t.customerId, t.kind)],
);

/**
 * The race lab's sign-ups, with the unique email a race-free get-or-create needs. Kept apart
 * from `customers`, so a lab run never touches real customers.
 */
export const labSignUps = pgTable('lab_sign_ups', signUpColumns(), (t) => [
  unique('lab_sign_ups_email_unique').on(t.email),
]);

/**
 * The same sign-ups without the unique key: what a select-then-insert sign-up duplicates
 * under concurrency, and what `getOrCreate` refuses (no key, no race-free get-or-create).
 */
export const labSignUpsUnkeyed = pgTable('lab_sign_ups_unkeyed', signUpColumns());

/** Tags for books; the unique name is what lets concurrent taggers get-or-create them. */
export const tags = pgTable(
  'tags',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    name: varchar('name', { length: 40 }).notNull(),
  },
  (t) => [unique('tags_name_unique').on(t.name)],
);

/**
 * Which book has which tag. The (book, tag) primary key makes tagging idempotent: a link is
 * get-or-created, never inserted twice. Deleting a book or a tag takes its links with it.
 */
export const bookTags = pgTable(
  'book_tags',
  {
    bookId: integer('book_id')
      .notNull()
      .references(() => books.id, { onDelete: 'cascade' }),
    tagId: integer('tag_id')
      .notNull()
      .references(() => tags.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ name: 'book_tags_pkey', columns: [t.bookId, t.tagId] }),
    index('book_tags_tag_id_idx').on(t.tagId),
  ],
);

/** The bookstore's Drizzle tables for PostgreSQL (`pg-core`). */
export const postgresTables = {
  books,
  customers,
  orders,
  sentEmails,
  labSignUps,
  labSignUpsUnkeyed,
  tags,
  bookTags,
};
/** The type of `postgresTables`. */
export type PostgresTables = typeof postgresTables;
