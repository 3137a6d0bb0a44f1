import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { atomic, current, onCommit, onRollback } from '../src/index.js';
import { activeTransaction, executeStatement } from '../src/internal.js';
import { captureOnCommit, withRollback } from '../src/testing/index.js';
import { countRows, countRowsIn, createTextTable } from './support/helpers.js';

// withRollback: the test-case transaction. Whatever the code under test writes is gone
// afterwards; nested inside a transaction it is a savepoint that always rolls back.
describeDialects('withRollback', (t) => {
  const db = () => t.connection.db;
  const ran: string[] = [];
  const insert = (name: string) =>
    executeStatement(current(db()), sql`insert into items (name) values (${name})`);
  const names = async () =>
    (await t.connection.query<{ name: string }>('select name from items order by name')).map(
      (r) => r.name,
    );

  beforeAll(async () => {
    await createTextTable(t.connection, 'items');
  });
  beforeEach(async () => {
    ran.length = 0;
    await t.connection.query('delete from items');
  });

  it('returns fn’s result, sees its own writes, and persists nothing', async () => {
    const result = await withRollback(db(), async (tx) => {
      await insert('a');
      await atomic(db(), () => insert('b')); // code under test opening its own block
      const inside = await countRowsIn(tx, 'items');
      expect(await countRows(t.connection, 'items')).toBe(0); // invisible outside
      return inside;
    });
    expect(result).toBe(2);
    expect(await names()).toEqual([]);
  });

  it('an error in fn is rethrown and nothing persists', async () => {
    await expect(
      withRollback(db(), async () => {
        await insert('a');
        throw new Error('test failed');
      }),
    ).rejects.toThrow('test failed');
    expect(await names()).toEqual([]);
  });

  it('onCommit hooks neither run nor get lost; onRollback hooks are dropped', async () => {
    const captured = await captureOnCommit(() =>
      withRollback(db(), async () => {
        await onCommit(() => ran.push('commit hook'));
        await onRollback(() => ran.push('rollback hook'));
      }),
    );
    expect(ran).toEqual([]);
    expect(captured).toHaveLength(1);
    // Without a capture the hooks are simply never run.
    await withRollback(db(), () => onCommit(() => ran.push('uncaptured')));
    expect(ran).toEqual([]);
  });

  it('nested in a transaction it is a savepoint that always rolls back; the outer work commits', async () => {
    await atomic(db(), async (tx) => {
      await insert('outer');
      await onCommit(() => ran.push('outer hook'));
      const inner = await withRollback(tx, async (savepoint) => {
        expect(activeTransaction(db())?.depth).toBe(1);
        expect(current(db())).toBe(savepoint);
        await insert('inner');
        await onCommit(() => ran.push('inner hook'));
        return 'inner result';
      });
      expect(inner).toBe('inner result');
      expect(await countRowsIn(tx, 'items')).toBe(1);
      await insert('after');
    });
    expect(await names()).toEqual(['after', 'outer']);
    expect(ran).toEqual(['outer hook']);
  });

  it('nested in itself: each level rolls back its own work', async () => {
    await withRollback(db(), async () => {
      await insert('level 1');
      await withRollback(db(), () => insert('level 2'));
      expect(await countRowsIn(current(db()), 'items')).toBe(1);
    });
    expect(await names()).toEqual([]);
  });
});
