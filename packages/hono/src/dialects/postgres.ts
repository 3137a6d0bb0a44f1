import { atomic } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import {
  type IdempotencyDialect,
  type KeyClaim,
  keyRecord,
  someCause,
} from './idempotency-dialect.js';
import { IDEMPOTENCY_TABLE_NAME } from './idempotency-table-name.js';
import { PG_IDEMPOTENCY_DDL } from './pg-idempotency-table.js';

const TABLE = sql.identifier(IDEMPOTENCY_TABLE_NAME);

/** The columns a read returns; expiry by the server's clock, so every app process agrees. */
const RECORD = sql`method, path, body_sha256, status, content_type, headers, body, expires_at <= statement_timestamp() as expired`;

function expiresAt(claim: KeyClaim) {
  return sql`statement_timestamp() + ${claim.ttlMs}::float8 * interval '1 millisecond'`;
}

/**
 * PostgreSQL. `INSERT … ON CONFLICT DO NOTHING` on the primary key is the claim: when another
 * transaction has inserted the same key and not yet ended, the insert waits for it and then
 * either goes in (that transaction rolled back: its claim never existed) or does nothing (it
 * committed: the key has a stored response). The wait is bounded by `lock_timeout`, set with
 * `set_config(…, true)` — transaction-local, so nothing outlives the transaction behind a
 * transaction pooler — and put back before the handler runs.
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

  async insertOrLock(db, claim) {
    const inserted = await executeRows(
      db,
      sql`insert into ${TABLE} (scope, idempotency_key, method, path, body_sha256, created_at, expires_at)
        values (${claim.scope}, ${claim.key}, ${claim.method}, ${claim.path}, ${claim.bodySha256}, statement_timestamp(), ${expiresAt(claim)})
        on conflict (scope, idempotency_key) do nothing returning 1 as inserted`,
    );
    if (inserted.length > 0) return { inserted: true };
    // The key is committed. FOR UPDATE: an expired row may be taken over, and two takers that
    // both held a share lock would deadlock upgrading it. At READ COMMITTED the locking read
    // sees the latest committed version; at REPEATABLE READ the insert above has already
    // raised a serialization failure for a row outside the snapshot.
    const [raw] = await executeRows(
      db,
      sql`select ${RECORD} from ${TABLE} where scope = ${claim.scope} and idempotency_key = ${claim.key} for update`,
    );
    return raw ? { row: keyRecord(raw) } : { gone: true };
  },

  async takeOver(db, claim) {
    await executeStatement(
      db,
      sql`update ${TABLE} set method = ${claim.method}, path = ${claim.path}, body_sha256 = ${claim.bodySha256},
        status = null, content_type = null, headers = null, body = null,
        created_at = statement_timestamp(), expires_at = ${expiresAt(claim)}
        where scope = ${claim.scope} and idempotency_key = ${claim.key}`,
    );
  },

  async complete(db, scope, key, response) {
    await executeStatement(
      db,
      sql`update ${TABLE} set status = ${response.status}, content_type = ${response.contentType},
        headers = ${response.headers}, body = ${response.body === null ? null : Buffer.from(response.body)}::bytea
        where scope = ${scope} and idempotency_key = ${key}`,
    );
  },

  async withLockWait(db, _server, waitMs, run) {
    // lock_timeout = 0 means "wait forever": the shortest real limit is 1 ms.
    const [saved] = await executeRows<{ previous: string }>(
      db,
      sql`select current_setting('lock_timeout') as previous, set_config('lock_timeout', ${`${Math.max(1, waitMs)}ms`}, true)`,
    );
    const result = await run(sql``);
    // The handler runs next, in this transaction: it gets the caller's own limit back.
    await executeRows(db, sql`select set_config('lock_timeout', ${saved?.previous ?? '0'}, true)`);
    return result;
  },

  // 55P03 is lock_not_available: a lock_timeout that fired (our inserts are never NOWAIT).
  isWaitOver: (error) => someCause(error, (e) => e.code === '55P03'),

  isMissingTable: (error) => someCause(error, (e) => e.code === '42P01'),

  async prune(db, _server, limit) {
    // SKIP LOCKED: a key a request holds right now (an expired one being taken over) is left
    // alone, so pruning never waits for a request and a request never waits for pruning.
    return executeStatement(
      db,
      sql`delete from ${TABLE} where (scope, idempotency_key) in (
        select scope, idempotency_key from ${TABLE} where expires_at <= statement_timestamp()
        order by expires_at limit ${limit} for update skip locked)`,
    );
  },
};
