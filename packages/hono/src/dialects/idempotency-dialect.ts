import type { Database } from '@racefree/transactions';
import type { Dialect } from '@racefree/transactions/internal';
import type { SQL } from 'drizzle-orm';

/** A key's row as the middleware reads it. */
export interface KeyRecord {
  method: string;
  path: string;
  bodySha256: string;
  /**
   * The stored status. `null` only in this transaction's own unfinished claim: the response is
   * written in the transaction that inserts the key, so no committed row lacks it.
   */
  status: number | null;
  contentType: string | null;
  /** The headers named in `storeHeaders`, as JSON `[name, value][]`. */
  headers: string | null;
  body: Uint8Array | null;
  /** `expires_at` has passed, by the database server's clock. */
  expired: boolean;
}

/** A new claim on a key: the request's fingerprint and how long the key lives. */
export interface KeyClaim {
  scope: string;
  key: string;
  method: string;
  path: string;
  bodySha256: string;
  ttlMs: number;
}

/** What is stored for a request whose transaction commits. */
export interface StoredResponse {
  status: number;
  contentType: string | null;
  headers: string | null;
  body: Uint8Array | null;
}

/**
 * What `insertOrLock` found: the claim went in (ours, until this transaction ends), the key's
 * existing row (locked by this transaction), or nothing at all (pruned in between: try again).
 */
export type InsertOrLock = { inserted: true } | { row: KeyRecord } | { gone: true };

/**
 * Everything the idempotency middleware does differently on PostgreSQL and on MySQL/MariaDB,
 * in one small object per family (MariaDB refines MySQL's). The middleware reads as one story
 * and asks it only where the servers differ.
 */
export interface IdempotencyDialect {
  /** Creates the table and its index if they do not exist (idempotent, concurrent-safe). */
  install(db: Database): Promise<void>;
  /** The key's row by a plain read: no lock, no waiting (the replay fast path). */
  read(db: Database, scope: string, key: string): Promise<KeyRecord | undefined>;
  /**
   * Inserts the claim unless the key exists, waiting for a transaction that is inserting or
   * holding the key (up to the limit `withLockWait` set) and learning how it ended; otherwise
   * reads and locks the existing row, so that no one else can take it over before we commit.
   */
  insertOrLock(db: Database, claim: KeyClaim, prefix: SQL): Promise<InsertOrLock>;
  /** Makes an expired row, locked by `insertOrLock`, this transaction's claim. */
  takeOver(db: Database, claim: KeyClaim, prefix: SQL): Promise<void>;
  /** Writes the response into this transaction's claim. */
  complete(db: Database, scope: string, key: string, response: StoredResponse): Promise<void>;
  /**
   * Runs `run` with lock waits limited to `waitMs`, and the previous limit back afterwards.
   * `prefix` goes in front of each statement that may wait (MariaDB's `SET STATEMENT … FOR`).
   * A wait that runs out throws an error `isWaitOver` recognises, which leaves the block that
   * holds the claim unusable on PostgreSQL: the caller rolls that block back.
   */
  withLockWait<T>(
    db: Database,
    server: Dialect,
    waitMs: number,
    run: (prefix: SQL) => Promise<T>,
  ): Promise<T>;
  /** True when `error` says a lock wait ran out (`withLockWait`'s limit, or the server's own). */
  isWaitOver(error: unknown): boolean;
  /** True when `error` says the table does not exist. */
  isMissingTable(error: unknown): boolean;
  /** Deletes up to `limit` expired keys nobody holds; resolves with how many went. */
  prune(db: Database, server: Dialect, limit: number): Promise<number>;
}

/** The columns every read returns, mapped from the driver's row. */
export function keyRecord(raw: Record<string, unknown>): KeyRecord {
  const body = raw.body;
  return {
    method: String(raw.method),
    path: String(raw.path),
    bodySha256: String(raw.body_sha256),
    status: raw.status === null || raw.status === undefined ? null : Number(raw.status),
    contentType: typeof raw.content_type === 'string' ? raw.content_type : null,
    headers: typeof raw.headers === 'string' ? raw.headers : null,
    body: body instanceof Uint8Array ? body : null,
    // PostgreSQL answers a boolean, MySQL/MariaDB 0 or 1 (as a number or a string).
    expired: raw.expired === true || Number(raw.expired) === 1,
  };
}

/** Walks an error and its causes (Drizzle wraps the driver's error in `cause`). */
export function someCause(error: unknown, test: (candidate: Record<string, unknown>) => boolean) {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (test(current as Record<string, unknown>)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
