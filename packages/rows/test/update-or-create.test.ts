import { atomic, InvalidArgumentError } from '@racefree/transactions';
import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { updateOrCreate } from '../src/index.js';
import { countRows, createTables, type Tables, truncateAll } from './schema.js';

describeDialects(
  'updateOrCreate: what set may change, and which values a created row gets',
  (t) => {
    let T: Tables;
    let pool: TestConnection;
    beforeAll(async () => {
      T = await createTables(t.connection);
      pool = await t.connect({ max: 12 });
    });
    beforeEach(() => truncateAll(t.connection));

    it('set may change where’s other columns: the row the server matched is updated and returned', async () => {
      const options = { where: { name: 'a', color: 'red' }, set: { color: 'blue' } };
      await t.connection.query("insert into tags (name, color) values ('a', 'red')");
      const outside = await updateOrCreate(t.connection.db, T.tags, options);
      expect(outside).toMatchObject({ created: false, row: { name: 'a', color: 'blue' } });
      await t.connection.query("update tags set color = 'red'");
      const inside = await atomic(t.connection.db, (tx) => updateOrCreate(tx, T.tags, options));
      expect(inside).toMatchObject({ created: false, row: { name: 'a', color: 'blue' } });
      expect(await countRows(t.connection, 'tags')).toBe(1);
    });

    it('a created row gets set over where (as Django’s update_or_create)', async () => {
      const result = await updateOrCreate(t.connection.db, T.tags, {
        where: { name: 'c', color: 'red' },
        set: { color: 'blue' },
        createDefaults: { color: 'green', slug: 'c-slug' },
      });
      expect(result).toMatchObject({
        created: true,
        row: { name: 'c', color: 'blue', slug: 'c-slug' },
      });
    });

    it('set may not move the key that finds the row, nor the primary key: refused before any SQL', async () => {
      await t.connection.query("insert into tags (name) values ('k')");
      const refused = [
        updateOrCreate(t.connection.db, T.tags, { where: { name: 'k' }, set: { name: 'moved' } }),
        updateOrCreate(t.connection.db, T.tags, { where: { name: 'k' }, set: { id: 99 } }),
        updateOrCreate(t.connection.db, T.memberships, {
          where: { org: 1, userName: 'u' },
          set: { org: 2, role: 'x' },
        }),
      ];
      for (const call of refused) await expect(call).rejects.toBeInstanceOf(InvalidArgumentError);
      // The same value is no move.
      const same = await updateOrCreate(t.connection.db, T.tags, {
        where: { name: 'k' },
        set: { name: 'k', color: 'x' },
      });
      expect(same).toMatchObject({ created: false, row: { name: 'k', color: 'x' } });
      const names = await t.connection.query<{ name: string }>('select name from tags');
      expect(names.map((row) => row.name)).toEqual(['k']);
    });

    it('12 callers at once whose set changes where’s other column: one row, one creator, no error', async () => {
      const outcome = await race(12, () =>
        updateOrCreate(pool.db, T.tags, {
          where: { name: 'raced', color: 'red' },
          set: { color: 'blue' },
        }),
      );
      expect(outcome.errors.map(String)).toEqual([]);
      expect(outcome.results.filter((result) => result.created)).toHaveLength(1);
      for (const result of outcome.results) expect(result.row).toMatchObject({ color: 'blue' });
      expect(await countRows(t.connection, 'tags', "name = 'raced'")).toBe(1);
    });
  },
);
