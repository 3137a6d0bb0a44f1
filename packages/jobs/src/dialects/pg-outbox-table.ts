import { bigint, json, pgTable, timestamp, varchar } from 'drizzle-orm/pg-core';
import { OUTBOX_TABLE_NAME } from './outbox-table.js';

/**
 * The PostgreSQL outbox (`delivery: 'outbox'`) as a Drizzle table, for projects whose
 * drizzle-kit schema should own it (export it from your schema file and generate a
 * migration; `outboxTable` is the MySQL one). It lives in the database of the transactions
 * that enqueue — the queue's own, or any other — under your `search_path` (usually `public`).
 * Rows are written by `jobs.enqueue(tx, …)` inside your transaction and moved into
 * graphile-worker by the relay; never update them by hand, and never TRUNCATE the table or
 * reset its identity while a relay may run (the relay's ledger relies on ids never being
 * reused).
 *
 * @example
 * // schema.ts
 * export { pgOutboxTable } from '@racefree/jobs';
 */
export const pgOutboxTable = pgTable(OUTBOX_TABLE_NAME, {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  taskIdentifier: varchar('task_identifier', { length: 128 }).notNull(),
  /** The job spec: payload and add_job options (see JobSpec). */
  job: json('job').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * The DDL of the PostgreSQL outbox, for projects that manage migrations by hand (idempotent:
 * `IF NOT EXISTS`; `installOutbox(pgDb)` runs it). An identity column never hands out an id
 * twice, rolled-back inserts included, which is what the relay's ledger needs.
 */
export const PG_OUTBOX_MIGRATION_SQL = `create table if not exists ${OUTBOX_TABLE_NAME} (
  id bigint generated always as identity primary key,
  task_identifier varchar(128) not null,
  job json not null,
  created_at timestamptz not null default now()
)`;
