import { atomic, classifyError, LockNotAvailableError } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import {
  Barrier,
  type DialectContext,
  describeDialects,
  type TestConnection,
} from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { selectForUpdateOrCreate } from '../src/index.js';
import { countRows, createTables, type Tables, truncateAll } from './schema.js';

// noWait covers the locking read; an INSERT cannot be NOWAIT. These tests hold a lock the
// insert needs in one transaction and run selectForUpdateOrCreate({ noWait }) in another,
// with a lock-wait limit of a second or less, on a connection of its own (on MariaDB the
// limit is a session setting).
/** Tables, a pool for the holder and a one-connection waiter, and `whileHeld`, for one suite. */
function heldLockSuite(t: DialectContext) {
  let T: Tables;
  let pool: TestConnection;
  let waiter: TestConnection;
  beforeAll(async () => {
    T = await createTables(t.connection);
    pool = await t.connect({ max: 2 });
    waiter = await t.connect({ max: 1 });
  });
  afterAll(() => waiter?.close());
  beforeEach(() => truncateAll(t.connection));

  /** Runs `hold` in one transaction and, once it holds its lock, `attempt` in another. */
  async function whileHeld(
    hold: (tx: never) => Promise<unknown>,
    attempt: (tx: never) => Promise<void>,
    holderLevel?: 'repeatable read',
  ) {
    const holding = new Barrier(2);
    const done = new Barrier(2);
    const results = await Promise.allSettled([
      atomic(
        pool.db,
        async (tx) => {
          await hold(tx as never);
          await holding.wait();
          await done.wait();
        },
        holderLevel ? { isolationLevel: holderLevel } : {},
      ),
      atomic(waiter.db, async (tx) => {
        try {
          await holding.wait();
          await executeStatement(
            tx,
            t.kind === 'postgres'
              ? sql`set local lock_timeout = '200ms'`
              : sql`set session innodb_lock_wait_timeout = 1`,
          );
          await attempt(tx as never);
          // The failed step was undone alone (a savepoint on PostgreSQL): the transaction goes on.
          expect(await executeRows(tx, sql`select 1 as one`)).toHaveLength(1);
        } finally {
          await done.wait();
        }
      }),
    ]);
    expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual([
      'fulfilled',
      'fulfilled',
    ]);
  }

  return { tables: () => T, waiter: () => waiter, whileHeld };
}

describeDialects('noWait, when another transaction holds what the insert needs', (t) => {
  const suite = heldLockSuite(t);
  const { whileHeld } = suite;
  const holdInsertedRow = (tx: never) =>
    executeStatement(tx, sql`insert into tags (name) values ('held')`);
  const attemptHeld = (tx: never) =>
    selectForUpdateOrCreate(tx, suite.tables().tags, {
      where: { name: 'held' },
      noWait: true,
    }).catch((e: unknown) => e);

  it('a key another transaction is inserting: LockNotAvailableError on InnoDB; on PostgreSQL the wait ends at lock_timeout, retryable', async () => {
    await whileHeld(holdInsertedRow, async (tx) => {
      const error = await attemptHeld(tx);
      if (t.kind === 'mysql') {
        // InnoDB's NOWAIT read stops at the inserting transaction's record lock.
        expect(error).toBeInstanceOf(LockNotAvailableError);
        expect((error as Error).message).toMatch(/locked by another transaction \(noWait\)/);
      } else {
        // PostgreSQL's read cannot see the uncommitted row; the insert waits for it, and the
        // caller's own lock_timeout stays what it is: a lock timeout, for atomic({ retries }).
        expect(error).not.toBeInstanceOf(LockNotAvailableError);
        expect(classifyError(error)).toMatchObject({ kind: 'lock_timeout', retryable: true });
      }
    });
    expect(await countRows(t.connection, 'tags', "name = 'held'")).toBe(1);
  });
});

describeDialects(
  'noWait on InnoDB, when another transaction holds a gap lock',
  (t) => {
    const suite = heldLockSuite(t);
    const { whileHeld } = suite;
    it('InnoDB: an insert waiting on a gap lock fails as LockNotAvailableError, told by the error code in any server language', async () => {
      await executeStatement(suite.waiter().db, sql`set session lc_messages = 'de_DE'`);
      try {
        await whileHeld(
          // At REPEATABLE READ a locking read of a missing key locks the gap it would go in.
          (tx) => executeRows(tx, sql`select id from tags where name = 'gap' for update`),
          async (tx) => {
            const error = await selectForUpdateOrCreate(tx as never, suite.tables().tags, {
              where: { name: 'gap' },
              noWait: true,
            }).catch((e: unknown) => e);
            expect(error).toBeInstanceOf(LockNotAvailableError);
            // The server's own message is German here: the old text match would have missed it.
            const cause = (error as { cause?: { cause?: { message?: string } } }).cause;
            expect(String(cause?.cause?.message ?? '')).not.toMatch(/lock wait timeout/i);
          },
          'repeatable read',
        );
      } finally {
        await executeStatement(suite.waiter().db, sql`set session lc_messages = 'en_US'`);
      }
      expect(await countRows(t.connection, 'tags', "name = 'gap'")).toBe(0);
    });
  },
  { kinds: ['mysql'] },
);

describeDialects('skipLocked, when another transaction holds the row', (t) => {
  const suite = heldLockSuite(t);
  const { whileHeld } = suite;
  it('answers skipped at once instead of waiting on the insert (InnoDB checks a duplicate under the holder’s lock)', async () => {
    await t.connection.query("insert into tags (name) values ('held')");
    await whileHeld(
      (tx) => executeRows(tx, sql`select id from tags where name = 'held' for update`),
      async (tx) => {
        const result = await selectForUpdateOrCreate(tx, suite.tables().tags, {
          where: { name: 'held' },
          skipLocked: true,
        });
        expect(result).toEqual({ row: undefined, created: false, skipped: true });
        // A key no one holds is still created (one sorting after the held one: on InnoDB the
        // holder's lock may cover the gap in front of its row).
        const free = await selectForUpdateOrCreate(tx, suite.tables().tags, {
          where: { name: 'zfree' },
          skipLocked: true,
        });
        expect(free).toMatchObject({ created: true, row: { name: 'zfree' } });
      },
    );
    expect(await countRows(t.connection, 'tags', "name = 'held'")).toBe(1);
  });
});
