import {
  atomic,
  executeRows,
  executeStatement,
  LockNotAvailableError,
} from '@racefree/transactions';
import { Barrier, describeDialects, type TestConnection } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { selectForUpdateOrCreate } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// An INSERT cannot be NOWAIT: when another transaction is inserting the same key, it waits for
// that transaction, up to the server's lock-wait limit. Asked for noWait, running into that
// limit means the same as a NOWAIT failure — the key is held by someone — and it is told by
// the error's code, not its text (MariaDB's messages follow lc_messages). On PostgreSQL the
// uncommitted row is invisible to the NOWAIT read, so the insert is what waits (this test
// fails on a text match of "lock wait timeout"); on InnoDB the NOWAIT read already stops at
// the inserting transaction's record lock, and the limit only keeps a regression from
// hanging the test.
describeDialects('noWait, when the key is being inserted by another transaction', (t) => {
  let T: Tables;
  let pool: TestConnection;
  let waiter: TestConnection;
  beforeAll(async () => {
    T = await createTables(t.connection);
    pool = await t.connect({ max: 2 });
    // One connection of its own: on MariaDB the lock-wait limit is set for the session.
    waiter = await t.connect({ max: 1 });
  });
  afterAll(() => waiter?.close());
  beforeEach(() => truncateAll(t.connection));

  it('selectForUpdateOrCreate fails with LockNotAvailableError at the limit, and the transaction stays usable', async () => {
    const inserted = new Barrier(2);
    const done = new Barrier(2);
    const results = await Promise.allSettled([
      atomic(pool.db, async (tx) => {
        await executeStatement(tx, sql`insert into tags (name) values ('held')`);
        await inserted.wait();
        await done.wait();
      }),
      atomic(waiter.db, async (tx) => {
        await executeStatement(
          tx,
          t.kind === 'postgres'
            ? sql`set local lock_timeout = '200ms'`
            : sql`set session innodb_lock_wait_timeout = 1`,
        );
        await inserted.wait();
        try {
          const error = await selectForUpdateOrCreate(tx, T.tags, {
            where: { name: 'held' },
            noWait: true,
          }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(LockNotAvailableError);
          expect((error as Error).message).toMatch(/locked by another transaction \(noWait\)/);
          // Only the insert was undone (a savepoint on PostgreSQL): the transaction goes on.
          expect(await executeRows(tx, sql`select 1 as one`)).toHaveLength(1);
        } finally {
          await done.wait();
        }
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const rows = await t.connection.query<{ n: number | string }>(
      "select count(*) as n from tags where name = 'held'",
    );
    expect(Number(rows[0]?.n)).toBe(1);
  });
});
