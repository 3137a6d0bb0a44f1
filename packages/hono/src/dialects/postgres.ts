import { atomic, type Database } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { type SQL, sql } from 'drizzle-orm';
import {
  type IdempotencyDialect,
  type KeyClaim,
  keyRecord,
  mustTakeOver,
  someCause,
} from './idempotency-dialect.js';
import { IDEMPOTENCY_TABLE_NAME } from './idempotency-table-name.js';
import { PG_IDEMPOTENCY_DDL } from './pg-idempotency-table.js';

const TABLE = sql.identifier(IDEMPOTENCY_TABLE_NAME);

/** The columns a read returns; expiry by the server's clock, so every app process agrees. */
const RECORD = sql`method, path, body_sha256, status, content_type, headers, body, expires_at <= statement_timestamp() as expired`;

/** Puts the caller's lock_timeout back (saved by the first claim statement). */
const RESTORE = sql`set_config('lock_timeout', current_setting('racefree.lock_timeout'), true) as restored`;

/** Sets our lock_timeout. (0 means "wait forever": the shortest real limit is 1 ms.) */
function waitLimit(waitMs: number): SQL {
  return sql`set_config('lock_timeout', ${`${Math.max(1, waitMs)}ms`}, true)`;
}

function expiresAt(claim: KeyClaim): SQL {
  return sql`statement_timestamp() + ${claim.ttlMs}::float8 * interval '1 millisecond'`;
}

/** `insert … select` of a claim (no response yet); the caller adds FROM and ON CONFLICT. */
function insertClaim(claim: KeyClaim): SQL {
  return sql`insert into ${TABLE} (scope, idempotency_key, method, path, body_sha256, created_at, expires_at)
    select ${claim.scope}, ${claim.key}, ${claim.method}, ${claim.path}, ${claim.bodySha256}, statement_timestamp(), ${expiresAt(claim)}`;
}

/**
 * Makes an expired or response-less row this transaction's claim, under a row lock (two
 * takers must not both win) taken within our wait limit, then puts the caller's limit back.
 * False when the row changed while we waited for its lock (someone else took it over): the
 * caller reads it again.
 */
async function takeOver(tx: Database, claim: KeyClaim, waitMs: number): Promise<boolean> {
  // Its own statement: a select list may be computed only after FOR UPDATE has waited.
  await executeRows(tx, sql`select ${waitLimit(waitMs)}`);
  const [locked] = await executeRows(
    tx,
    sql`select ${RECORD} from ${TABLE} where scope = ${claim.scope} and idempotency_key = ${claim.key} for update`,
  );
  // FOR UPDATE at READ COMMITTED returns the latest committed version once the lock is ours.
  const stillFree = locked !== undefined && mustTakeOver(keyRecord(locked));
  if (stillFree) {
    await executeStatement(
      tx,
      sql`update ${TABLE} set method = ${claim.method}, path = ${claim.path}, body_sha256 = ${claim.bodySha256},
        status = null, content_type = null, headers = null, body = null,
        created_at = statement_timestamp(), expires_at = ${expiresAt(claim)}
        where scope = ${claim.scope} and idempotency_key = ${claim.key}`,
    );
  }
  await executeRows(tx, sql`select ${RESTORE}`);
  return stillFree;
}

/**
 * PostgreSQL. `INSERT … ON CONFLICT DO NOTHING` on the primary key is the claim: when another
 * transaction has inserted the same key and not yet ended, the insert waits for it and then
 * either goes in (that transaction rolled back: its claim never existed) or does nothing (it
 * committed: the key has a stored response). The wait is bounded by `lock_timeout`, set with
 * `set_config(…, true)` — transaction-local, so nothing outlives the transaction behind a
 * transaction pooler — and the caller's value is put back before the handler runs. A lock
 * timeout aborts the block that holds the claim; the middleware rolls that block back.
 */
export const postgresIdempotency: IdempotencyDialect = {
  async install(db) {
    // Two CREATE TABLE IF NOT EXISTS racing can both pass the check and collide on the
    // catalog's unique index: the transaction-scoped advisory lock lets one in at a time.
    await atomic(db, async (tx) => {
      await executeStatement(
        tx,
        sql`select pg_advisory_xact_lock(hashtext(${IDEMPOTENCY_TABLE_NAME}))`,
      );
      for (const statement of PG_IDEMPOTENCY_DDL) await executeStatement(tx, statement);
    });
  },

  async read(db, scope, key) {
    const [raw] = await executeRows(
      db,
      sql`select ${RECORD} from ${TABLE} where scope = ${scope} and idempotency_key = ${key}`,
    );
    return raw ? keyRecord(raw) : undefined;
  },

  async claim(tx, _server, claim, waitMs) {
    // One round trip on the common path: the FROM subquery saves the caller's lock_timeout
    // and sets ours before the row is inserted (so before any wait), and RETURNING — run only
    // when the row went in — puts the caller's back.
    let inserted = await executeRows(
      tx,
      sql`${insertClaim(claim)}
        from (select set_config('racefree.lock_timeout', current_setting('lock_timeout'), true), ${waitLimit(waitMs)}) as wait_limit
        on conflict (scope, idempotency_key) do nothing returning ${RESTORE}`,
    );
    for (let tries = 1; inserted.length === 0; tries++) {
      // The key is committed. At READ COMMITTED this statement's snapshot sees the row (at
      // REPEATABLE READ the insert has already raised a serialization failure for a row
      // outside the snapshot). A plain read, and the caller's limit back in the same trip: a
      // replay takes no lock, so duplicates that waited together replay together.
      const [raw] = await executeRows(
        tx,
        sql`select ${RECORD}, ${RESTORE} from ${TABLE} where scope = ${claim.scope} and idempotency_key = ${claim.key}`,
      );
      if (raw) {
        const row = keyRecord(raw);
        if (!mustTakeOver(row)) return { row };
        if (await takeOver(tx, claim, waitMs)) return { claimed: true };
        continue;
      }
      // Gone between the two statements: pruning deleted it (it had expired). Insert again.
      if (tries === 5) throw new Error(`idempotency: key ${claim.key} kept disappearing`);
      inserted = await executeRows(
        tx,
        sql`${insertClaim(claim)}
          from (select ${waitLimit(waitMs)}) as wait_limit
          on conflict (scope, idempotency_key) do nothing returning ${RESTORE}`,
      );
    }
    return { claimed: true };
  },

  async complete(db, claim, response) {
    await executeStatement(
      db,
      sql`update ${TABLE} set status = ${response.status}, content_type = ${response.contentType},
        headers = ${response.headers}, body = ${response.body === null ? null : Buffer.from(response.body)}::bytea,
        expires_at = ${expiresAt(claim)}
        where scope = ${claim.scope} and idempotency_key = ${claim.key}`,
    );
  },

  // 55P03 is lock_not_available: a lock_timeout that fired (our statements are never NOWAIT).
  isWaitOver: (error) => someCause(error, (e) => e.code === '55P03'),

  isMissingTable: (error) => someCause(error, (e) => e.code === '42P01'),

  async prune(db, _server, limit) {
    // SKIP LOCKED: a key a request holds right now (one being taken over) is left alone, so
    // pruning never waits for a request and a request never waits for pruning.
    return executeStatement(
      db,
      sql`delete from ${TABLE} where (scope, idempotency_key) in (
        select scope, idempotency_key from ${TABLE} where expires_at <= statement_timestamp()
        order by expires_at limit ${limit} for update skip locked)`,
    );
  },
};
