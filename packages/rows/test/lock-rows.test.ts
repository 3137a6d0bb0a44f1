import {
  atomic,
  type Database,
  isDeadlock,
  LockNotAvailableError,
  NotSupportedError,
} from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { Barrier, describeDialects, race, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { lockRows } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

const ROWS = 20;

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

/** Caller i's rows: a first row of its own (i + 1), then 4 more drawn from a shared range, in random order. */
function rowSets(callers: number, seed: number): number[][] {
  const next = random(seed);
  return Array.from({ length: callers }, (_, i) => {
    const set = new Set([(i % ROWS) + 1]);
    while (set.size < 5) set.add(next(ROWS) + 1);
    const [first, ...rest] = [...set];
    return [first as number, ...rest.sort(() => next(3) - 1)];
  });
}

describeDialects('lockRows', (t) => {
  let T: Tables;
  let pool: TestConnection;
  const bump = (tx: Database, ids: number[]) =>
    executeStatement(
      tx,
      sql`update accounts set balance = balance + 1 where id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    );

  beforeAll(async () => {
    T = await createTables(t.connection);
    pool = await t.connect({ max: 16 });
  });
  beforeEach(async () => {
    await truncateAll(t.connection);
    await t.connection.query(
      `insert into accounts (id, balance) values ${Array.from({ length: ROWS }, (_, i) => `(${i + 1}, 0)`).join(', ')}`,
    );
  });

  it('64 callers locking overlapping sets of 5 rows: zero deadlocks, every increment kept', async () => {
    const sets = rowSets(64, 7);
    const outcome = await race(64, (caller) =>
      atomic(pool.db, async (tx) => {
        const ids = sets[caller] as number[];
        const locked = await lockRows(tx, T.accounts, ids);
        expect(locked.map((r) => r.id)).toEqual(ids); // the order the caller named them in
        await bump(tx, ids);
      }),
    );
    expect(outcome.errors).toEqual([]);
    const [sum] = await t.connection.query<{ s: number | string }>(
      'select sum(balance) as s from accounts',
    );
    expect(Number(sum?.s)).toBe(64 * 5);
  });

  it('control: the same work locking in caller order, forced to interleave, deadlocks', async () => {
    // 16 callers (one per pooled connection) each lock their own first row, wait until all
    // have, then lock the rest in the order they were drawn: cycles form, the server breaks them.
    const sets = rowSets(16, 7);
    const barrier = new Barrier(16);
    const outcome = await race(16, (caller) =>
      atomic(pool.db, async (tx) => {
        const [first, ...rest] = sets[caller] as number[];
        await executeRows(tx, sql`select id from accounts where id = ${first} for update`);
        await barrier.wait();
        for (const id of rest)
          await executeRows(tx, sql`select id from accounts where id = ${id} for update`);
        await bump(tx, sets[caller] as number[]);
      }),
    );
    const deadlocks = outcome.errors.filter(isDeadlock).length;
    console.info(`[control] caller-order locking: ${deadlocks} of 16 transactions deadlocked`);
    expect(deadlocks).toBeGreaterThan(0);
    expect(outcome.errors.length).toBe(deadlocks);
  });

  it('locks by a where object, in primary-key order', async () => {
    await t.connection.query('update accounts set balance = 7 where id in (3, 9, 14)');
    const rows = await atomic(t.connection.db, (tx) => lockRows(tx, T.accounts, { balance: 7 }));
    expect(rows.map((r) => r.id)).toEqual([3, 9, 14]);
  });

  it('share mode works on this server (MariaDB needs LOCK IN SHARE MODE)', async () => {
    const rows = await atomic(t.connection.db, (tx) =>
      lockRows(tx, T.accounts, [2, 1], { mode: 'share' }),
    );
    expect(rows.map((r) => r.id)).toEqual([2, 1]);
  });

  it('given keys, answers in their order (a transfer reads from and to right either way), each key once, missing ones left out', async () => {
    await t.connection.query('update accounts set balance = id * 10 where id in (3, 8)');
    for (const [fromId, toId] of [
      [8, 3],
      [3, 8],
    ] as const) {
      const [from, to] = await atomic(t.connection.db, (tx) =>
        lockRows(tx, T.accounts, [fromId, toId]),
      );
      expect([from?.id, from?.balance, to?.id, to?.balance]).toEqual([
        fromId,
        fromId * 10,
        toId,
        toId * 10,
      ]);
    }
    const rows = await atomic(t.connection.db, (tx) =>
      lockRows(tx, T.accounts, [9, 4, 9, 9999, 2]),
    );
    expect(rows.map((r) => r.id)).toEqual([9, 4, 2]);
  });

  it('noWait: a held row fails at once with LockNotAvailableError, and the transaction stays usable', async () => {
    const holder = new Barrier(2);
    const done = new Barrier(2);
    const results = await Promise.allSettled([
      atomic(pool.db, async (tx) => {
        await lockRows(tx, T.accounts, [1]);
        await holder.wait();
        await done.wait();
      }),
      atomic(pool.db, async (tx) => {
        await holder.wait();
        try {
          const error = await lockRows(tx, T.accounts, [1], { noWait: true }).catch(
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(LockNotAvailableError);
          // Still usable: another row locks fine.
          expect(await lockRows(tx, T.accounts, [2])).toHaveLength(1);
        } finally {
          await done.wait();
        }
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('skipLocked leaves out held rows', async () => {
    const holder = new Barrier(2);
    const done = new Barrier(2);
    let seen: number[] = [];
    await Promise.all([
      atomic(pool.db, async (tx) => {
        await lockRows(tx, T.accounts, [2, 4]);
        await holder.wait();
        await done.wait();
      }),
      atomic(pool.db, async (tx) => {
        await holder.wait();
        try {
          seen = (await lockRows(tx, T.accounts, [1, 2, 3, 4, 5], { skipLocked: true })).map(
            (r) => r.id,
          );
        } finally {
          await done.wait();
        }
      }),
    ]);
    expect(seen).toEqual([1, 3, 5]);
  });

  it('timeoutMs holds for this call only: the previous setting is back after a timeout', async () => {
    const holder = new Barrier(2);
    const done = new Barrier(2);
    const setting =
      t.kind === 'postgres'
        ? "select current_setting('lock_timeout') as v"
        : 'select @@innodb_lock_wait_timeout as v';
    let before: unknown;
    let after: unknown;
    let error: unknown;
    await Promise.all([
      atomic(pool.db, async (tx) => {
        await lockRows(tx, T.accounts, [1]);
        await holder.wait();
        await done.wait();
      }),
      atomic(pool.db, async (tx) => {
        await holder.wait();
        try {
          [before] = await executeRows(tx, sql.raw(setting));
          error = await lockRows(tx, T.accounts, [1], { timeoutMs: 300 }).catch((e: unknown) => e);
          [after] = await executeRows(tx, sql.raw(setting));
        } finally {
          await done.wait();
        }
      }),
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(
      String((error as Error).message) + String((error as { cause?: Error }).cause?.message),
    ).toMatch(/lock/i);
    expect(after).toEqual(before);
  });

  it('refuses what the server cannot do, and calls outside a transaction, before any SQL', async () => {
    if (t.kind === 'mysql') {
      await expect(
        atomic(t.connection.db, (tx) => lockRows(tx, T.accounts, [1], { mode: 'key share' })),
      ).rejects.toBeInstanceOf(NotSupportedError);
    }
    await expect(lockRows(t.connection.db, T.accounts, [1])).rejects.toMatchObject({
      code: 'TRANSACTION_REQUIRED',
    });
    await expect(atomic(t.connection.db, (tx) => lockRows(tx, T.nokey, []))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
