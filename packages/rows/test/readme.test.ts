import { type AnyPgDatabase, managed } from '@racefree/transactions';
import { describeDialects, race, describeReadme } from '@racefree/testkit';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { receive, setTheme, spend, tagNamed, tagsNamed, transfer } from '../examples/rows.js';
import { EXAMPLE_DDL } from '../examples/schema.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describeReadme(packageDir);

// The README's examples, run on each PostgreSQL driver — raced where racing is their point.
describeDialects(
  'the README examples, run',
  (t) => {
    beforeAll(async () => {
      for (const ddl of EXAMPLE_DDL) await t.connection.query(ddl);
    });
    beforeEach(async () => {
      for (const table of ['tags', 'accounts', 'inventory', 'settings'])
        await t.connection.query(`delete from ${table}`);
    });
    const open = async () => managed((await t.connect({ max: 8 })).db as AnyPgDatabase);

    it('getOrCreate: 16 callers at once, one row, created once', async () => {
      const db = await open();
      const outcome = await race(16, () => tagNamed(db, 'sql'));
      expect(outcome.errors).toEqual([]);
      expect(outcome.results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(outcome.results.map((result) => result.tag.id)).size).toBe(1);
      expect(outcome.results[0]?.tag.color).toBe('blue');
    });

    it('getOrCreateMany: 8 callers at once on overlapping tags, one row and one creator each', async () => {
      const db = await open();
      const outcome = await race(8, (caller) =>
        tagsNamed(db, caller % 2 ? ['sql', 'races', 'node'] : ['node', 'sql', 'drizzle']),
      );
      expect(outcome.errors).toEqual([]);
      expect(outcome.results.flatMap((result) => result.created).sort()).toEqual([
        'drizzle',
        'node',
        'races',
        'sql',
      ]);
      const rows = await t.connection.query<{ name: string; color: string }>(
        'select name, color from tags order by name',
      );
      expect(rows).toEqual([
        { name: 'drizzle', color: 'grey' },
        { name: 'node', color: 'grey' },
        { name: 'races', color: 'grey' },
        { name: 'sql', color: 'blue' },
      ]);
    });

    it('selectForUpdateOrCreate: 16 receipts at once on a missing sku, none lost', async () => {
      const db = await open();
      const outcome = await race(16, () => receive(db, 'sku-1', 2));
      expect(outcome.errors).toEqual([]);
      const rows = await t.connection.query<{ quantity: number }>(
        "select quantity from inventory where sku = 'sku-1'",
      );
      expect(rows.map((row) => row.quantity)).toEqual([32]);
    });

    it('updateOrCreate: created once, then updated', async () => {
      const db = await open();
      expect((await setTheme(db, 7, 'dark')).created).toBe(true);
      const second = await setTheme(db, 7, 'light');
      expect([second.created, second.row.value]).toEqual([false, 'light']);
    });

    it('lockRows: transfers both ways at once, no deadlock, no money made or lost', async () => {
      const db = await open();
      await t.connection.query('insert into accounts (id, balance) values (1, 100), (2, 100)');
      const outcome = await race(16, (caller) =>
        caller % 2 ? transfer(db, 1, 2, 3) : transfer(db, 2, 1, 1),
      );
      expect(outcome.errors).toEqual([]);
      const rows = await t.connection.query<{ id: number; balance: number }>(
        'select id, balance from accounts order by id',
      );
      expect(rows.map((row) => row.balance)).toEqual([100 - 8 * 3 + 8, 100 + 8 * 3 - 8]);
    });

    it('refresh: spends from the balance as stored now, not as held', async () => {
      const db = await open();
      await t.connection.query('insert into accounts (id, balance) values (3, 100)');
      const stale = { id: 3, balance: 100 };
      await t.connection.query('update accounts set balance = 50 where id = 3');
      await spend(db, stale, 10);
      const [row] = await t.connection.query<{ balance: number }>(
        'select balance from accounts where id = 3',
      );
      expect(row?.balance).toBe(40);
    });
  },
  { kinds: ['postgres'] },
);
