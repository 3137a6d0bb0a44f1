import { sql } from 'drizzle-orm';
import {
  char,
  customType,
  index,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  varchar,
} from 'drizzle-orm/pg-core';
import { IDEMPOTENCY_EXPIRY_INDEX, IDEMPOTENCY_TABLE_NAME } from './idempotency-table-name.js';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * The idempotency keys as a Drizzle PostgreSQL table, for projects whose drizzle-kit schema
 * owns their tables: export it from your schema file and generate a migration (it creates
 * exactly what `installIdempotency(db)` creates; `mysqlIdempotencyTable` is the MySQL one).
 * Rows are written by `idempotency()` inside the request's transaction; a committed row always
 * holds a complete response. Read it if you like; to forget a key, delete its row (the next
 * request with it runs the handler again).
 *
 * @example
 * // schema.ts
 * export { pgIdempotencyTable } from '@racefree/hono';
 */
export const pgIdempotencyTable = pgTable(
  IDEMPOTENCY_TABLE_NAME,
  {
    /** What `scope(c)` returned: keys of different scopes never meet. */
    scope: varchar('scope', { length: 255 }).notNull(),
    /** The `Idempotency-Key` header, as sent. */
    key: varchar('idempotency_key', { length: 255 }).notNull(),
    /** The request fingerprint: method, path with query, SHA-256 of the body (hex). */
    method: varchar('method', { length: 16 }).notNull(),
    path: text('path').notNull(),
    bodySha256: char('body_sha256', { length: 64 }).notNull(),
    /** The stored response; never NULL in a committed row. */
    status: smallint('status'),
    contentType: text('content_type'),
    /** The headers named in `storeHeaders`, as a JSON array of [name, value] pairs. */
    headers: text('headers'),
    body: bytea('body'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [
    primaryKey({ name: `${IDEMPOTENCY_TABLE_NAME}_pkey`, columns: [table.scope, table.key] }),
    index(IDEMPOTENCY_EXPIRY_INDEX).on(table.expiresAt),
  ],
);

/** The DDL `installIdempotency` runs on PostgreSQL: the same table, idempotent. */
export const PG_IDEMPOTENCY_DDL = [
  sql.raw(`create table if not exists ${IDEMPOTENCY_TABLE_NAME} (
  scope varchar(255) not null,
  idempotency_key varchar(255) not null,
  method varchar(16) not null,
  path text not null,
  body_sha256 char(64) not null,
  status smallint,
  content_type text,
  headers text,
  body bytea,
  created_at timestamptz not null,
  expires_at timestamptz not null,
  constraint ${IDEMPOTENCY_TABLE_NAME}_pkey primary key (scope, idempotency_key)
)`),
  sql.raw(
    `create index if not exists ${IDEMPOTENCY_EXPIRY_INDEX} on ${IDEMPOTENCY_TABLE_NAME} (expires_at)`,
  ),
];
