import { atomic, type Database } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { type SQL, sql } from 'drizzle-orm';
import {
  type ClaimOutcome,
  type IdempotencyDialect,
  type KeyClaim,
  keyRecord,
  mustTakeOver,
  sameRequest,
  someCause,
} from './idempotency-dialect.js';
import { IDEMPOTENCY_TABLE_NAME } from './idempotency-table-name.js';
import { MYSQL_IDEMPOTENCY_DDL } from './mysql-idempotency-table.js';

const TABLE = sql.identifier(IDEMPOTENCY_TABLE_NAME);

/** The columns a read returns. UTC throughout: app processes in other time zones agree. */
const RECORD = sql`method, path, body_sha256, status, content_type, headers, body, expires_at <= UTC_TIMESTAMP(6) AS expired`;

/** ER_LOCK_WAIT_TIMEOUT, and MariaDB's ER_STATEMENT_TIMEOUT (max_statement_time). */
const WAIT_OVER = new Set([1205, 1969]);

function expiresAt(claim: KeyClaim): SQL {
  return sql`UTC_TIMESTAMP(6) + INTERVAL ${claim.ttlMs * 1000} MICROSECOND`;
}

/**
 * What the claim found: the row holding the key, read after `insertClaim` with its lock held.
 * A row without a response and with this request's fingerprint is the one just inserted (no
 * committed row lacks a response); anything else is someone else's — replayed, or taken over.
 */
async function claimRow(
  tx: Database,
  claim: KeyClaim,
  prefix: SQL,
  insertAndRead: () => Promise<Record<string, unknown> | undefined>,
): Promise<ClaimOutcome> {
  const raw = await insertAndRead();
  // The insert-or-lock leaves the row in place, locked by us: it cannot be gone.
  if (!raw) throw new Error(`idempotency: key ${claim.key} not found after claiming it`);
  const row = keyRecord(raw);
  if (row.status === null && sameRequest(row, claim)) return { claimed: true };
  if (!mustTakeOver(row)) return { row };
  await executeStatement(
    tx,
    sql`${prefix}UPDATE ${TABLE} SET method = ${claim.method}, path = ${claim.path}, body_sha256 = ${claim.bodySha256},
      status = NULL, content_type = NULL, headers = NULL, body = NULL,
      created_at = UTC_TIMESTAMP(6), expires_at = ${expiresAt(claim)}
      WHERE scope = ${claim.scope} AND idempotency_key = ${claim.key}`,
  );
  return { claimed: true };
}

/**
 * `INSERT … ON DUPLICATE KEY UPDATE` with a no-op update, not a plain INSERT: on a duplicate,
 * InnoDB then takes an exclusive lock on the existing row rather than a shared one. With
 * shared locks, two requests that both found an expired row would deadlock upgrading them to
 * take it over. While the first claimant's transaction is open, the statement waits on its
 * record lock; when it commits, the statement finds its row; when it rolls back, the insert
 * goes in.
 */
function insertClaim(claim: KeyClaim, prefix: SQL): SQL {
  return sql`${prefix}INSERT INTO ${TABLE} (scope, idempotency_key, method, path, body_sha256, created_at, expires_at)
    VALUES (${claim.scope}, ${claim.key}, ${claim.method}, ${claim.path}, ${claim.bodySha256}, UTC_TIMESTAMP(6), ${expiresAt(claim)})
    ON DUPLICATE KEY UPDATE idempotency_key = idempotency_key`;
}

/**
 * MySQL 8. A failed statement rolls back only itself, so a wait that runs out leaves the
 * transaction usable. Lock waits are limited by `innodb_lock_wait_timeout`, whole seconds
 * (a `waitMs` under a second waits one second), set for the session and put back afterwards:
 * MySQL has no per-statement form for it.
 */
export const mysqlIdempotency: IdempotencyDialect = {
  async install(db) {
    for (const statement of MYSQL_IDEMPOTENCY_DDL) await executeStatement(db, statement);
  },

  async read(db, scope, key) {
    const [raw] = await executeRows(
      db,
      sql`SELECT ${RECORD} FROM ${TABLE} WHERE scope = ${scope} AND idempotency_key = ${key}`,
    );
    return raw ? keyRecord(raw) : undefined;
  },

  async claim(tx, _server, claim, waitMs) {
    // MySQL has no per-statement form of the limit: set it for the session, put it back after.
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    const [saved] = await executeRows<{ previous: number }>(
      tx,
      sql`SELECT @@innodb_lock_wait_timeout AS previous`,
    );
    await executeStatement(tx, sql.raw(`SET SESSION innodb_lock_wait_timeout = ${seconds}`));
    try {
      return await claimRow(tx, claim, sql``, async () => {
        await executeStatement(tx, insertClaim(claim, sql``));
        // A locking read (the row's lock is ours already): at REPEATABLE READ a plain SELECT
        // would answer from the snapshot taken before the first claimant committed.
        const [raw] = await executeRows(
          tx,
          sql`SELECT ${RECORD} FROM ${TABLE} WHERE scope = ${claim.scope} AND idempotency_key = ${claim.key} FOR UPDATE`,
        );
        return raw;
      });
    } finally {
      await executeStatement(
        tx,
        sql.raw(`SET SESSION innodb_lock_wait_timeout = ${Number(saved?.previous ?? 50)}`),
      );
    }
  },

  async complete(db, claim, response) {
    await executeStatement(
      db,
      sql`UPDATE ${TABLE} SET status = ${response.status}, content_type = ${response.contentType},
        headers = ${response.headers}, body = ${response.body === null ? null : Buffer.from(response.body)},
        expires_at = ${expiresAt(claim)}
        WHERE scope = ${claim.scope} AND idempotency_key = ${claim.key}`,
    );
  },

  isWaitOver: (error) =>
    someCause(error, (e) => typeof e.errno === 'number' && WAIT_OVER.has(e.errno)),

  isMissingTable: (error) => someCause(error, (e) => e.errno === 1146),

  async prune(db, server, limit) {
    if (!server.supportsSkipLocked) {
      return executeStatement(
        db,
        sql`DELETE FROM ${TABLE} WHERE expires_at <= UTC_TIMESTAMP(6) ORDER BY expires_at LIMIT ${sql.raw(String(limit))}`,
      );
    }
    // SKIP LOCKED: a key a request holds right now is left alone, so pruning never waits for a
    // request. The delete then goes by primary key, the order requests lock rows in.
    return atomic(db, async (tx) => {
      const keys = await executeRows<{ scope: unknown; idempotency_key: unknown }>(
        tx,
        sql`SELECT scope, idempotency_key FROM ${TABLE} WHERE expires_at <= UTC_TIMESTAMP(6)
          ORDER BY expires_at LIMIT ${sql.raw(String(limit))}${sql.raw(server.lockClause('update', { skipLocked: true }))}`,
      );
      if (keys.length === 0) return 0;
      return executeStatement(
        tx,
        sql`DELETE FROM ${TABLE} WHERE (scope, idempotency_key) IN (${sql.join(
          keys.map((k) => sql`(${k.scope}, ${k.idempotency_key})`),
          sql`, `,
        )})`,
      );
    });
  },
};

/**
 * MariaDB. `SET STATEMENT … FOR` scopes a setting to one statement: nothing to put back, no
 * session state. `max_statement_time` takes fractions of a second and interrupts a lock wait
 * (error 1969) without touching the transaction, so `waitMs` is honoured to the millisecond;
 * `innodb_lock_wait_timeout` is raised past it so the server's own limit does not fire first.
 * `INSERT … RETURNING` (10.5+) claims and reads in one round trip.
 */
export const mariadbIdempotency: IdempotencyDialect = {
  ...mysqlIdempotency,

  async claim(tx, _server, claim, waitMs) {
    // max_statement_time = 0 means no limit; innodb_lock_wait_timeout = 0 fails a wait at once.
    const prefix = sql.raw(
      waitMs === 0
        ? 'SET STATEMENT innodb_lock_wait_timeout = 0 FOR '
        : `SET STATEMENT max_statement_time = ${(waitMs / 1000).toFixed(3)}, innodb_lock_wait_timeout = ${Math.ceil(waitMs / 1000) + 1} FOR `,
    );
    return claimRow(tx, claim, prefix, async () => {
      const [raw] = await executeRows(tx, sql`${insertClaim(claim, prefix)} RETURNING ${RECORD}`);
      return raw;
    });
  },
};
