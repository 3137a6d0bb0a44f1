import { atomic, type Database } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getOrCreate, selectForUpdateOrCreate, updateOrCreate } from '../src/index.js';
import { createTables, type Tables } from './schema.js';

// A rolling deploy: a migration adds a column while processes built for the old schema keep
// running. racefree prepares its statements (PostgreSQL), and a prepared `select *` /
// `returning *` whose result gains a column fails with "cached plan must not change result
// type" — inside a transaction, that error aborts the caller's transaction. Every statement
// names its columns, so the old code keeps working on the same connection.
describeDialects('a column added while the app runs', (t) => {
  let T: Tables;
  let single: TestConnection;
  // One connection: the statements prepared before the ALTER are the ones reused after it.
  const db = () => single.db as Database;
  beforeAll(async () => {
    T = await createTables(t.connection);
    single = await t.connect({ max: 1 });
  });
  afterAll(() => single?.close());

  it('getOrCreate, selectForUpdateOrCreate and updateOrCreate work before and after', async () => {
    const round = (name: string) =>
      atomic(db(), async (tx) => {
        const created = await getOrCreate(tx, T.tags, { where: { name }, defaults: { hits: 1 } });
        const existing = await getOrCreate(tx, T.tags, { where: { name } });
        const locked = await selectForUpdateOrCreate(tx, T.counters, {
          where: { name },
          defaults: { quantity: 5 },
        });
        const updated = await updateOrCreate(tx, T.counters, {
          where: { name },
          set: { quantity: locked.row.quantity + 1 },
        });
        return { created, existing, updated };
      });

    const before = await round('before');
    expect(before.created.created).toBe(true);
    expect(before.existing).toEqual({ row: before.created.row, created: false });
    expect(before.updated.row.quantity).toBe(6);

    await single.query('alter table tags add column added_later varchar(20)');
    await single.query('alter table counters add column added_later integer');

    for (const name of ['before', 'after']) {
      const after = await round(name);
      expect(after.existing.row).toEqual(after.created.row);
      // The new column is not in the table definition the app was built with: not returned.
      expect(Object.keys(after.created.row).sort()).toEqual(Object.keys(before.created.row).sort());
      expect(after.updated.row.quantity).toBe(name === 'before' ? 7 : 6);
    }
    expect(await single.query<{ n: number | string }>('select count(*) as n from tags')).toEqual([
      { n: t.kind === 'postgres' ? '2' : 2 },
    ]);
  });
});
