import { setTimeout as sleep } from 'node:timers/promises';
import { Barrier, type DatabaseKind, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { atomic, type Database } from '../../src/index.js';
import { executeRows, executeStatement } from '../../src/internal.js';

/** The server-side id of the connection `db` runs on: `pg_backend_pid()` / `CONNECTION_ID()`. */
export async function connectionIdOf(db: Database, kind: DatabaseKind): Promise<number> {
  const [row] = await executeRows<{ id: number | string }>(
    db,
    kind === 'postgres' ? sql`select pg_backend_pid() as id` : sql`select connection_id() as id`,
  );
  return Number(row?.id);
}

/**
 * Polls the server until `check` holds. This observes what the server is doing (a backend
 * waiting for a lock, sleeping inside COMMIT); it never stands in for an ordering — the
 * interleavings themselves are forced with barriers and locks.
 */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(2); // poll interval of the observation, not a choreography step
  }
}

/**
 * Resolves once PostgreSQL backend `pid` is blocked waiting for a lock (pg_stat_activity is
 * live). There is no MariaDB twin on purpose: information_schema.innodb_trx is a cache that is
 * refreshed only when it has not been read for 0.1 s, so a poller that reads it more often
 * sees the same stale snapshot forever.
 */
export async function waitUntilWaitingForLock(
  observer: TestConnection,
  pid: number,
): Promise<void> {
  if (observer.kind !== 'postgres') throw new Error('waitUntilWaitingForLock is PostgreSQL-only');
  await waitFor(`backend ${pid} to wait for a lock`, async () => {
    const rows = await observer.query(
      "select 1 from pg_stat_activity where pid = $1 and wait_event_type = 'Lock'",
      [pid],
    );
    return rows.length > 0;
  });
}

/** Row count of `table` as another connection sees it (committed data only). */
export async function countRows(connection: TestConnection, table: string): Promise<number> {
  const [row] = await connection.query<{ n: number | string }>(
    `select count(*) as n from ${table}`,
  );
  return Number(row?.n);
}

/** `n` of the one row of `counters` (`id = 1`), as another connection sees it. */
export async function counterValue(connection: TestConnection): Promise<number> {
  const [row] = await connection.query<{ n: number | string }>(
    'select n from counters where id = 1',
  );
  return Number(row?.n);
}

/**
 * Creates `table (id <auto-increment> primary key, <column> <text> not null)`, the table the
 * hook and scope tests write names into.
 */
export async function createTextTable(
  connection: TestConnection,
  table: string,
  column = 'name',
): Promise<void> {
  await connection.query(
    connection.kind === 'postgres'
      ? `create table ${table} (id serial primary key, ${column} text not null)`
      : `create table ${table} (id int auto_increment primary key, ${column} varchar(100) not null)`,
  );
}

/** Row count of `table` inside `db`'s transaction (what the open block itself sees). */
export async function countRowsIn(db: Database, table: string): Promise<number> {
  const [row] = await executeRows<{ n: number | string }>(
    db,
    sql`select count(*) as n from ${sql.identifier(table)}`,
  );
  return Number(row?.n);
}

/** Takes the row lock on `accounts.id = id` and returns the balance it read. */
export async function lockAccount(db: Database, id: number): Promise<number> {
  const [row] = await executeRows<{ balance: number | string }>(
    db,
    sql`select balance from accounts where id = ${id} for update`,
  );
  return Number(row?.balance);
}

/** The `accounts` table of the deadlock tests: two rows, 100 each. */
export async function resetAccounts(connection: TestConnection): Promise<void> {
  await connection.query(
    'create table if not exists accounts (id int primary key, balance int not null)',
  );
  await connection.query('delete from accounts');
  await connection.query('insert into accounts (id, balance) values (1, 100), (2, 100)');
}

/** Balances by account id, read from another connection. */
export async function balances(connection: TestConnection): Promise<Record<number, number>> {
  const rows = await connection.query<{ id: number; balance: number | string }>(
    'select id, balance from accounts order by id',
  );
  return Object.fromEntries(rows.map((row) => [Number(row.id), Number(row.balance)]));
}

/**
 * Moves `amount` from account `from` to `to`, locking `from` first, then (after `between`)
 * `to`. Two of these in opposite directions, held at a barrier between the steps, deadlock for
 * real.
 */
export async function transfer(
  tx: Database,
  from: number,
  to: number,
  amount: number,
  between: () => Promise<void>,
): Promise<void> {
  const fromBalance = await lockAccount(tx, from);
  await executeStatement(
    tx,
    sql`update accounts set balance = ${fromBalance - amount} where id = ${from}`,
  );
  await between();
  const toBalance = await lockAccount(tx, to);
  await executeStatement(
    tx,
    sql`update accounts set balance = ${toBalance + amount} where id = ${to}`,
  );
}

/** Collects every statement a Drizzle database sends (its logger). */
export function statementLog(): {
  statements: string[];
  logger: { logQuery(query: string, params: unknown[]): void };
} {
  const statements: string[] = [];
  return { statements, logger: { logQuery: (query) => statements.push(query) } };
}

/** Settles `promise` and returns its error (fails the test when it resolves). */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the operation to fail, but it succeeded');
}

/** A table of 50 rows a deadlock partner updates to make its transaction heavy (InnoDB). */
export async function createBallast(connection: TestConnection): Promise<void> {
  await connection.query('create table if not exists ballast (id int primary key, n int not null)');
  await connection.query('delete from ballast');
  await connection.query(
    `insert into ballast (id, n) values ${Array.from({ length: 50 }, (_, i) => `(${i}, 0)`).join(', ')}`,
  );
}

/**
 * Starts a transaction on `partners` (another pool: on the caller's `db` it would join the
 * caller's transaction) that moves 5 from account 2 to account 1 — locking 2, then 1 — and
 * deadlocks with a caller that locks 1, awaits `meet()`, then locks 2. The caller is always the
 * one the server sacrifices:
 * - PostgreSQL aborts the waiter whose `deadlock_timeout` fires while the cycle exists. The
 *   partner postpones its own check (10 s) and is queued on its second lock (observed in
 *   pg_stat_activity) before the caller asks for its second one (50 ms in test databases).
 * - InnoDB rolls back the transaction of least weight (undo records + locks), whoever closes
 *   the cycle: the partner first updates the 50 ballast rows (see `createBallast`).
 */
export function deadlockingPartner(options: {
  kind: DatabaseKind;
  partners: TestConnection;
  observer: TestConnection;
}): { done: Promise<void>; meet: () => Promise<void> } {
  const barrier = new Barrier(2);
  let partnerId = 0;
  const done = atomic(options.partners.db, async (tx) => {
    await executeStatement(
      tx,
      options.kind === 'postgres'
        ? sql`set local deadlock_timeout = '10s'`
        : sql`update ballast set n = n + 1`,
    );
    partnerId = await connectionIdOf(tx, options.kind);
    await transfer(tx, 2, 1, 5, () => barrier.wait());
  });
  return {
    done,
    meet: async () => {
      await barrier.wait();
      if (options.kind === 'postgres') await waitUntilWaitingForLock(options.observer, partnerId);
    },
  };
}
