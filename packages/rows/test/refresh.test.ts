import { atomic, LockNotAvailableError, RowNotFoundError } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreate, lockRows, refresh } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

describeDialects('refresh', (t) => {
  let T: Tables;
  const db = () => t.connection.db;
  beforeAll(async () => {
    T = await createTables(t.connection);
  });
  beforeEach(() => truncateAll(t.connection));

  it('returns the row as stored now, by primary key', async () => {
    const { row } = await getOrCreate(db(), T.tags, {
      where: { name: 'a' },
      defaults: { color: 'red' },
    });
    await t.connection.query("update tags set color = 'blue', hits = 5 where name = 'a'");
    expect(await refresh(db(), T.tags, row)).toEqual({ ...row, color: 'blue', hits: 5 });
  });

  it('reloads only the named columns when asked', async () => {
    const { row } = await getOrCreate(db(), T.tags, {
      where: { name: 'b' },
      defaults: { color: 'red' },
    });
    await t.connection.query("update tags set color = 'blue', hits = 5 where name = 'b'");
    expect(await refresh(db(), T.tags, row, { columns: ['hits'] })).toEqual({ ...row, hits: 5 });
  });

  it('works with composite primary keys', async () => {
    await t.connection.query("insert into pairs (a, b, note) values (1, 2, 'old')");
    await t.connection.query("update pairs set note = 'new' where a = 1 and b = 2");
    expect(await refresh(db(), T.pairs, { a: 1, b: 2, note: 'old' })).toEqual({
      a: 1,
      b: 2,
      note: 'new',
    });
  });

  it('raises RowNotFoundError for a deleted row', async () => {
    const { row } = await getOrCreate(db(), T.tags, { where: { name: 'gone' } });
    await t.connection.query("delete from tags where name = 'gone'");
    await expect(refresh(db(), T.tags, row)).rejects.toBeInstanceOf(RowNotFoundError);
  });

  it("locks with 'update' and 'share' inside a transaction (LOCK IN SHARE MODE on MariaDB)", async () => {
    const { row } = await getOrCreate(db(), T.tags, { where: { name: 'locked' } });
    // Whether another connection finds the row locked (FOR UPDATE NOWAIT conflicts with both modes).
    const other = await t.connect({ max: 1 });
    const lockedElsewhere = () =>
      atomic(other.db, (tx) => lockRows(tx, T.tags, [row.id], { noWait: true })).then(
        () => false,
        (error: unknown) => {
          if (error instanceof LockNotAvailableError) return true;
          throw error;
        },
      );
    try {
      for (const lock of ['share', 'update'] as const) {
        await atomic(db(), async (tx) => {
          expect((await refresh(tx, T.tags, row, { lock })).name).toBe('locked');
          expect(await lockedElsewhere()).toBe(true);
        });
      }
      expect(await lockedElsewhere()).toBe(false); // released with the transaction
    } finally {
      await other.close();
    }
    await expect(refresh(db(), T.tags, row, { lock: 'update' })).rejects.toMatchObject({
      code: 'TRANSACTION_REQUIRED',
    });
  });
});
