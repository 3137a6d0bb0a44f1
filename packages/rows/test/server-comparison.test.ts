import { atomic } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreateMany, lockRows, updateOrCreate } from '../src/index.js';

// Key values the server holds equal while JavaScript does not: a uuid in capitals (PostgreSQL
// stores it in small letters), and on MySQL/MariaDB a collation that ignores case and trailing
// spaces. The server decides which row a value names; the helpers must agree with it.
const pgTables = {
  refs: pg.pgTable('refs', {
    id: pg.serial('id').primaryKey(),
    ref: pg.uuid('ref').notNull().unique(),
    note: pg.varchar('note', { length: 20 }),
  }),
  words: pg.pgTable('words', {
    word: pg.uuid('word').primaryKey(),
    n: pg.integer('n').notNull(),
  }),
};
const myTables = {
  refs: my.mysqlTable('refs', {
    id: my.serial('id').primaryKey(),
    ref: my.varchar('ref', { length: 50 }).notNull().unique(),
    note: my.varchar('note', { length: 20 }),
  }),
  words: my.mysqlTable('words', {
    word: my.varchar('word', { length: 50 }).primaryKey(),
    n: my.int('n').notNull(),
  }),
};

const UUID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

describeDialects('key values the server compares differently from JavaScript', (t) => {
  let T: typeof pgTables | typeof myTables;
  /** Spellings of one key, all naming one row on this server. */
  let spellings: string[];
  /** Another key. */
  let other: string;
  beforeAll(async () => {
    if (t.kind === 'postgres') {
      await t.connection.query(
        'create table refs (id serial primary key, ref uuid not null constraint refs_ref_unique unique, note varchar(20))',
      );
      await t.connection.query('create table words (word uuid primary key, n integer not null)');
      T = pgTables;
      spellings = [UUID.toUpperCase(), UUID];
      other = 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    } else {
      // utf8mb4_general_ci: case-insensitive, and trailing spaces do not count (PAD SPACE).
      const collation = 'character set utf8mb4 collate utf8mb4_general_ci';
      await t.connection.query(
        `create table refs (id serial primary key, ref varchar(50) ${collation} not null, note varchar(20), constraint refs_ref_unique unique (ref))`,
      );
      await t.connection.query(
        `create table words (word varchar(50) ${collation} primary key, n int not null)`,
      );
      T = myTables;
      spellings = ['Sql', 'sql', 'SQL '];
      other = 'other';
    }
  });
  beforeEach(async () => {
    await t.connection.query('delete from refs');
    await t.connection.query('delete from words');
  });

  const refCount = async () =>
    Number(
      (await t.connection.query<{ n: number | string }>('select count(*) as n from refs'))[0]?.n,
    );

  for (const inTransaction of [false, true]) {
    const where = inTransaction ? 'in a transaction' : 'outside a transaction';
    it(`getOrCreateMany ${where}: spellings of one key share one row, created once`, async () => {
      const call = (db: typeof t.connection.db) =>
        getOrCreateMany(db, T.refs as typeof pgTables.refs, {
          where: [...spellings, other].map((ref) => ({ ref })),
        });
      const first = inTransaction
        ? await atomic(t.connection.db, (tx) => call(tx))
        : await call(t.connection.db);
      expect(await refCount()).toBe(2);
      const ids = first.map((result) => result.row.id);
      expect(new Set(ids.slice(0, spellings.length)).size).toBe(1);
      expect(ids.at(-1)).not.toBe(ids[0]);
      expect(first.map((result) => result.created)).toEqual([
        true,
        ...spellings.slice(1).map(() => false),
        true,
      ]);
      const again = await call(t.connection.db);
      expect(again.map((result) => result.row.id)).toEqual(ids);
      expect(again.every((result) => !result.created)).toBe(true);
    });
  }

  it('lockRows by primary-key values returns the row each spelling names, once', async () => {
    await t.connection.query(`insert into words (word, n) values ('${spellings[1]}', 1)`);
    const locked = await atomic(t.connection.db, (tx) =>
      lockRows(tx, T.words as typeof pgTables.words, spellings),
    );
    expect(locked).toHaveLength(1);
    expect(locked[0]?.n).toBe(1);
  });

  it('lockRows by a where object keeps the rows the server matched', async () => {
    await t.connection.query(`insert into words (word, n) values ('${spellings[1]}', 1)`);
    const locked = await atomic(t.connection.db, (tx) =>
      lockRows(tx, T.words as typeof pgTables.words, { word: spellings[0] as string }),
    );
    expect(locked.map((row) => row.n)).toEqual([1]);
  });

  it('updateOrCreate updates the row another spelling names (no mismatch, no duplicate)', async () => {
    await t.connection.query(`insert into refs (ref, note) values ('${spellings[1]}', 'old')`);
    for (const [index, spelling] of spellings.entries()) {
      const result = await updateOrCreate(t.connection.db, T.refs as typeof pgTables.refs, {
        where: { ref: spelling },
        set: { note: `spelling ${index}` },
      });
      expect(result.created).toBe(false);
      expect(result.row.note).toBe(`spelling ${index}`);
    }
    expect(await refCount()).toBe(1);
  });

  it('a key stored in another spelling costs one read, not one per key of the call', async () => {
    const sent: string[] = [];
    const logged = await t.connect({ max: 2, logger: { logQuery: (query) => sent.push(query) } });
    await t.connection.query(`insert into refs (ref) values ('${spellings[1]}')`);
    // Thirty new keys that sort ahead of the stored one's other spelling.
    const fresh = Array.from({ length: 30 }, (_, i) =>
      t.kind === 'postgres' ? `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` : `A${i}`,
    );
    const results = await getOrCreateMany(logged.db, T.refs as typeof pgTables.refs, {
      where: [...fresh, spellings[0] as string].map((ref) => ({ ref })),
    });
    expect(results.map((result) => result.created)).toEqual([...fresh.map(() => true), false]);
    // The call's own reads of the table (the connection's first call also asks the server's
    // version and isolation level).
    const reads = sent.filter((query) => /^select .* from [`"]refs[`"]/i.test(query.trim()));
    expect(reads.length).toBeLessThanOrEqual(3);
  });
});
