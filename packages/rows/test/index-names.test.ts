import { isUniqueViolation } from '@racefree/transactions';
import { describeDialects, race } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreate } from '../src/index.js';

// Unique indexes created by hand, not by drizzle-kit, are named by the server: MySQL names an
// unnamed `unique` after its column (`name`), PostgreSQL `labels_name_key`. The Drizzle table
// knows only the names drizzle-kit would give them. getOrCreate must still recognise a
// conflict on its own key — and still rethrow one on another key.
const pgLabels = pg.pgTable('labels', {
  id: pg.serial('id').primaryKey(),
  name: pg.varchar('name', { length: 50 }).notNull().unique(),
  code: pg.varchar('code', { length: 50 }).unique(),
});
const myLabels = my.mysqlTable('labels', {
  id: my.serial('id').primaryKey(),
  name: my.varchar('name', { length: 50 }).notNull().unique(),
  code: my.varchar('code', { length: 50 }).unique(),
});

describeDialects('unique indexes named by the server, not by drizzle-kit', (t) => {
  const T = () => (t.kind === 'postgres' ? pgLabels : myLabels);
  beforeAll(async () => {
    await t.connection.query(
      'create table labels (id serial primary key, name varchar(50) not null unique, code varchar(50) unique)',
    );
  });
  beforeEach(() => t.connection.query('delete from labels'));

  it('32 callers on one new key: one row, created once, no error', async () => {
    const pool = await t.connect({ max: 10 });
    const outcome = await race(32, () => getOrCreate(pool.db, T(), { where: { name: 'k' } }));
    expect(outcome.errors).toEqual([]);
    expect(outcome.results.filter((result) => result.created)).toHaveLength(1);
    const rows = await t.connection.query("select id from labels where name = 'k'");
    expect(rows).toHaveLength(1);
  });

  it('a conflict on another key is still rethrown', async () => {
    await t.connection.query("insert into labels (name, code) values ('a', 'same')");
    const error = await getOrCreate(t.connection.db, T(), {
      where: { name: 'b' },
      defaults: { code: 'same' },
    }).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(await t.connection.query("select id from labels where name = 'b'")).toEqual([]);
  });
});
