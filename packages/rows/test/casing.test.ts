import { atomic } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  getOrCreate,
  getOrCreateMany,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';

// Columns declared without a name take theirs from the property key through the database's
// `casing` (drizzle({ casing: 'snake_case' })): `shelfCount` is `shelf_count` on the server.
// Every statement the helpers send must name the server's columns and answer property keys.
const pgShelves = pg.pgTable('shelf_items', {
  itemId: pg.serial().primaryKey(),
  itemName: pg.varchar({ length: 50 }).notNull().unique(),
  shelfCount: pg.integer().notNull().default(0),
});
const myShelves = my.mysqlTable('shelf_items', {
  itemId: my.serial().primaryKey(),
  itemName: my.varchar({ length: 50 }).notNull().unique(),
  shelfCount: my.int().notNull().default(0),
});

describeDialects('a database with Drizzle casing', (t) => {
  let cased: TestConnection;
  let T: typeof pgShelves;
  beforeAll(async () => {
    await t.connection.query(
      `create table shelf_items (item_id serial primary key, item_name varchar(50) not null, shelf_count int not null default 0, constraint shelf_items_item_name_unique unique (item_name))`,
    );
    cased = await t.connect({ casing: 'snake_case' });
    T = (t.kind === 'postgres' ? pgShelves : myShelves) as typeof pgShelves;
  });
  beforeEach(() => t.connection.query('delete from shelf_items'));

  it('every helper reads and writes the snake_case columns, inside and outside a transaction', async () => {
    const db = cased.db;
    const made = await getOrCreate(db, T, {
      where: { itemName: 'a' },
      defaults: { shelfCount: 2 },
    });
    expect(made).toMatchObject({ created: true, row: { itemName: 'a', shelfCount: 2 } });
    expect((await getOrCreate(db, T, { where: { itemName: 'a' } })).created).toBe(false);

    const many = await getOrCreateMany(db, T, {
      where: [{ itemName: 'a' }, { itemName: 'b' }],
      defaults: { shelfCount: 3 },
    });
    expect(many.map((r) => [r.row.itemName, r.row.shelfCount, r.created])).toEqual([
      ['a', 2, false],
      ['b', 3, true],
    ]);

    const updated = await updateOrCreate(db, T, {
      where: { itemName: 'a' },
      set: { shelfCount: 5 },
    });
    expect(updated).toMatchObject({ created: false, row: { itemName: 'a', shelfCount: 5 } });
    const created = await updateOrCreate(db, T, {
      where: { itemName: 'c' },
      set: { shelfCount: 1 },
    });
    expect(created).toMatchObject({ created: true, row: { itemName: 'c', shelfCount: 1 } });

    await atomic(db, async (tx) => {
      const inTx = await getOrCreate(tx, T, { where: { itemName: 'd' } });
      expect(inTx).toMatchObject({ created: true, row: { itemName: 'd', shelfCount: 0 } });
      const locked = await selectForUpdateOrCreate(tx, T, { where: { itemName: 'a' } });
      expect(locked.row).toMatchObject({ itemName: 'a', shelfCount: 5 });
      const byKeys = await lockRows(tx, T, [created.row.itemId, made.row.itemId]);
      expect(byKeys.map((row) => row.itemName)).toEqual(['c', 'a']);
      const byWhere = await lockRows(tx, T, { shelfCount: 5 });
      expect(byWhere.map((row) => row.itemName)).toEqual(['a']);
      const fresh = await refresh(tx, T, { ...made.row, shelfCount: -1 }, { lock: 'update' });
      expect(fresh.shelfCount).toBe(5);
      // MariaDB's share lock and its SET STATEMENT prefix (timeoutMs) are written out by hand.
      const shared = await lockRows(tx, T, [made.row.itemId], { mode: 'share' });
      expect(shared.map((row) => [row.itemName, row.shelfCount])).toEqual([['a', 5]]);
      const timed = await lockRows(tx, T, { shelfCount: 5 }, { timeoutMs: 1000 });
      expect(timed.map((row) => row.itemName)).toEqual(['a']);
      const sharedFresh = await refresh(tx, T, made.row, { lock: 'share' });
      expect(sharedFresh).toMatchObject({ itemName: 'a', shelfCount: 5 });
      const inTxMany = await getOrCreateMany(tx, T, {
        where: [{ itemName: 'e' }, { itemName: 'a' }],
      });
      expect(inTxMany.map((r) => [r.row.itemName, r.created])).toEqual([
        ['e', true],
        ['a', false],
      ]);
    });
    const names = await t.connection.query<{ item_name: string }>(
      'select item_name from shelf_items order by item_name',
    );
    expect(names.map((row) => row.item_name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
