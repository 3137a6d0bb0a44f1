import { sql } from 'drizzle-orm';
import {
  char,
  customType,
  datetime,
  index,
  mysqlTable,
  primaryKey,
  smallint,
  text,
  varbinary,
  varchar,
} from 'drizzle-orm/mysql-core';
import { IDEMPOTENCY_EXPIRY_INDEX, IDEMPOTENCY_TABLE_NAME } from './idempotency-table-name.js';

const mediumblob = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'mediumblob',
});

/**
 * The idempotency keys as a Drizzle MySQL/MariaDB table, for projects whose drizzle-kit schema
 * owns their tables: export it from your schema file and generate a migration (it creates
 * exactly what `installIdempotency(db)` creates; `pgIdempotencyTable` is the PostgreSQL one).
 * Scope and key are `varbinary`: compared byte for byte, so `Abc` and `abc` are two keys
 * whatever the database's collation. Times are UTC. Read it if you like; to forget a key,
 * delete its row.
 *
 * @example
 * // schema.ts
 * export { mysqlIdempotencyTable } from '@racefree/hono';
 */
export const mysqlIdempotencyTable = mysqlTable(
  IDEMPOTENCY_TABLE_NAME,
  {
    /** What `scope(c)` returned (up to 255 characters, 4 bytes each at most). */
    scope: varbinary('scope', { length: 1020 }).notNull(),
    /** The `Idempotency-Key` header, as sent. */
    key: varbinary('idempotency_key', { length: 255 }).notNull(),
    method: varchar('method', { length: 16 }).notNull(),
    path: text('path').notNull(),
    bodySha256: char('body_sha256', { length: 64 }).notNull(),
    /** The stored response; never NULL in a committed row. */
    status: smallint('status'),
    contentType: text('content_type'),
    headers: text('headers'),
    body: mediumblob('body'),
    createdAt: datetime('created_at', { mode: 'date', fsp: 6 }).notNull(),
    expiresAt: datetime('expires_at', { mode: 'date', fsp: 6 }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.key] }),
    index(IDEMPOTENCY_EXPIRY_INDEX).on(table.expiresAt),
  ],
);

/** The DDL `installIdempotency` runs on MySQL/MariaDB: the same table, idempotent. */
export const MYSQL_IDEMPOTENCY_DDL = [
  sql.raw(`CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE_NAME} (
  scope VARBINARY(1020) NOT NULL,
  idempotency_key VARBINARY(255) NOT NULL,
  method VARCHAR(16) NOT NULL,
  path TEXT NOT NULL,
  body_sha256 CHAR(64) NOT NULL,
  status SMALLINT NULL,
  content_type TEXT NULL,
  headers TEXT NULL,
  body MEDIUMBLOB NULL,
  created_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  PRIMARY KEY (scope, idempotency_key),
  INDEX ${IDEMPOTENCY_EXPIRY_INDEX} (expires_at)
) ENGINE=InnoDB`),
];
