import { sql } from 'drizzle-orm';
import { bigint, datetime, json, mysqlTable, varchar } from 'drizzle-orm/mysql-core';

/** Name of the outbox table: in MySQL/MariaDB, and in PostgreSQL with `delivery: 'outbox'`. */
export const OUTBOX_TABLE_NAME = 'racefree_outbox';

/**
 * The outbox as a Drizzle MySQL table, for projects whose drizzle-kit schema should own it
 * (export it from your schema file and generate a migration; `pgOutboxTable` is the PostgreSQL
 * one). Rows are written by `jobs.enqueue(mysqlDb, …)` inside your transaction and moved into
 * graphile-worker by `jobs.relay`; never update or reuse them by hand, and never TRUNCATE the
 * table while a relay may run (the relay's ledger relies on ids never being reused).
 *
 * @example
 * // schema.ts
 * export { outboxTable } from '@racefree/jobs';
 */
export const outboxTable = mysqlTable(OUTBOX_TABLE_NAME, {
  id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
  taskIdentifier: varchar('task_identifier', { length: 128 }).notNull(),
  /** The job spec: payload and add_job options (see JobSpec). */
  job: json('job').notNull(),
  createdAt: datetime('created_at', { mode: 'date', fsp: 6 })
    .notNull()
    .default(sql`CURRENT_TIMESTAMP(6)`),
});

/**
 * The DDL of the MySQL/MariaDB outbox, for projects that manage migrations by hand
 * (idempotent: `IF NOT EXISTS`; `installOutbox(mysqlDb)` runs it). Works on MySQL ≥ 8.0 and
 * MariaDB ≥ 10.6 (the relay needs `SKIP LOCKED`); both keep AUTO_INCREMENT counters across
 * restarts, so outbox ids are never reused.
 */
export const OUTBOX_MIGRATION_SQL = `CREATE TABLE IF NOT EXISTS ${OUTBOX_TABLE_NAME} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  task_identifier VARCHAR(128) NOT NULL,
  job JSON NOT NULL,
  created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB`;
