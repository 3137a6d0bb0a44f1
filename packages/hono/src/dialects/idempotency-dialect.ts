import type { Database } from '@racefree/transactions';
import type { Dialect } from '@racefree/transactions/internal';

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

/** The key is this transaction's to run the handler under, or another request's completed one. */
export type ClaimOutcome = { claimed: true } | { row: KeyRecord };

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
   * Claims the key in the transaction `tx` — the first statement of the block that will run
   * the handler and store its response — or returns the completed row that holds it.
   *
   * At most once comes from the primary key, not from memory: the claim is a row inserted in
   * the request's own transaction, so a concurrent duplicate's insert of the same key waits
   * on it — on PostgreSQL for the first transaction to end, on InnoDB for its record lock —
   * and learns the outcome: committed (the row has a stored response: replay it), or rolled
   * back (the claim never existed: this insert goes in). An existing row is returned locked,
   * so that nobody else can take it over before this transaction ends; a row that
   * `mustTakeOver` is made this transaction's claim instead.
   *
   * Lock waits are bounded by `waitMs`; when the wait runs out the server's error is thrown
   * (`isWaitOver` recognises it) and the caller rolls the block back and answers 409. The
   * caller's own lock-wait limit is back in force before the handler runs.
   */
  claim(tx: Database, server: Dialect, claim: KeyClaim, waitMs: number): Promise<ClaimOutcome>;
  /**
   * Writes the response into this transaction's claim; the key replays for `claim.ttlMs` from
   * now (a handler slower than the TTL must not leave a key that expired as it committed).
   */
  complete(db: Database, claim: KeyClaim, response: StoredResponse): Promise<void>;
  /** True when `error` says a lock wait ran out (`claim`'s limit, or the server's own). */
  isWaitOver(error: unknown): boolean;
  /** True when `error` says the table does not exist. */
  isMissingTable(error: unknown): boolean;
  /** Deletes up to `limit` expired keys nobody holds; resolves with how many went. */
  prune(db: Database, server: Dialect, limit: number): Promise<number>;
}

/**
 * True when an existing row may be claimed: it has expired, or it holds no response — which
 * no committed row written by this middleware lacks (the response is written in the
 * transaction that inserts the key), so such a row was left by hand or by a transaction that
 * committed a failed request: nothing can be replayed from it.
 */
export function mustTakeOver(row: KeyRecord): boolean {
  return row.expired || row.status === null;
}

/** Same method, path and body. */
export function sameRequest(row: KeyRecord, claim: KeyClaim): boolean {
  return (
    row.method === claim.method && row.path === claim.path && row.bodySha256 === claim.bodySha256
  );
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
