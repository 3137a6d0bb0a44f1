import { setTimeout as sleep } from 'node:timers/promises';
import type { DialectContext, TestConnection } from '@racefree/testkit';
import { type Database, current } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { beforeAll, beforeEach } from 'vitest';
import { installIdempotency } from '../src/index.js';
import { createTables, resetTables } from './fixtures.js';

/** The notes tables and the key table, created once per suite and emptied before each test. */
export function useNotesAndKeys(t: DialectContext): void {
  beforeAll(async () => {
    await createTables(t.connection);
    await installIdempotency(t.connection.db);
  });
  beforeEach(async () => {
    await resetTables(t.connection);
    await deleteKeys(t.connection);
  });
}

/** A promise with its resolve function. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/**
 * Polls until `check` holds: for observing a state of the server (a request waiting on a
 * lock), never for timing. Fails after 15 s with `what`.
 */
export async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const giveUpAt = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await sleep(5);
  }
}

/**
 * Sessions of this test database now waiting on the key another request holds. PostgreSQL
 * names the wait (`wait_event_type = 'Lock'`). On MariaDB, INNODB_TRX does not reliably list
 * a transaction waiting in `INSERT … ON DUPLICATE KEY UPDATE` (seen here: the session in the
 * processlist, its transaction missing), so the sessions inside a claim are counted — while a
 * test holds the first request's claim open, a claim in progress is one that waits.
 */
export async function lockWaiters(connection: TestConnection): Promise<number> {
  const [row] = await connection.query<{ n: number | string }>(
    connection.kind === 'postgres'
      ? "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
      : "select count(*) as n from information_schema.processlist where db = database() and id <> connection_id() and command = 'Query' and info like '%INSERT INTO `racefree_idempotency_keys`%'",
  );
  return Number(row?.n ?? 0);
}

/** The server's id of the connection the current transaction on `db` runs on. */
export async function connectionId(db: Database, kind: TestConnection['kind']): Promise<number> {
  const [row] = await executeRows<{ id: number | string }>(
    current(db),
    kind === 'postgres' ? sql`select pg_backend_pid() as id` : sql`select connection_id() as id`,
  );
  return Number(row?.id);
}

/** Kills a connection from another one, as a crashed server process or a network cut would. */
export async function killConnection(connection: TestConnection, id: number): Promise<void> {
  await connection.query(
    connection.kind === 'postgres' ? `select pg_terminate_backend(${id})` : `KILL ${id}`,
  );
}

/** The stored keys, as another connection sees them (committed rows only). */
export async function storedKeys(
  connection: TestConnection,
): Promise<{ scope: string; key: string; status: number | null }[]> {
  const rows = await connection.query<{
    scope: unknown;
    idempotency_key: unknown;
    status: unknown;
  }>(
    'select scope, idempotency_key, status from racefree_idempotency_keys order by scope, idempotency_key',
  );
  return rows.map((row) => ({
    scope: String(row.scope),
    key: String(row.idempotency_key),
    status: row.status === null ? null : Number(row.status),
  }));
}

/** Empties the key table. */
export async function deleteKeys(connection: TestConnection): Promise<void> {
  await executeStatement(connection.db, sql`delete from racefree_idempotency_keys`);
}

/** Waits until every stored key has expired by the server's clock. */
export async function untilExpired(connection: TestConnection): Promise<void> {
  const now = connection.kind === 'postgres' ? 'statement_timestamp()' : 'UTC_TIMESTAMP(6)';
  await until('the keys to expire', async () => {
    const [row] = await connection.query<{ n: number | string }>(
      `select count(*) as n from racefree_idempotency_keys where expires_at > ${now}`,
    );
    return Number(row?.n) === 0;
  });
}

/** Sends a JSON POST, with an Idempotency-Key when given. */
export function send(
  app: Hono,
  path: string,
  body: unknown,
  key?: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  return Promise.resolve(
    app.request(path, {
      method: init.method ?? 'POST',
      body: JSON.stringify(body),
      headers: {
        'content-type': 'application/json',
        ...(key === undefined ? {} : { 'idempotency-key': key }),
        ...init.headers,
      },
    }),
  );
}

/** Status, body and the headers a replay must reproduce, for comparing two responses. */
export async function snapshot(response: Response) {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    body: await response.text(),
    replayed: response.headers.get('idempotent-replayed'),
  };
}
