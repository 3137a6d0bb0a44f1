import { atomic, classifyError, type Database, type ErrorKind } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import * as my from 'drizzle-orm/mysql-core';
import * as pg from 'drizzle-orm/pg-core';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  getOrCreate,
  getOrCreateMany,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';

// Django's ticket #20463: a create that fails for any reason but the key being taken — another
// unique key, a foreign key, NOT NULL, a check — is thrown as it is (its classification kept),
// and the caller's transaction stays usable: the next statement runs and the block commits.
// On PostgreSQL, where any error aborts the transaction, that takes a savepoint around the
// insert; the marker rows before and after the failure prove the transaction lived on.
const pgGadgets = pg.pgTable('gadgets', {
  id: pg.serial('id').primaryKey(),
  name: pg.varchar('name', { length: 50 }).notNull().unique(),
  slug: pg.varchar('slug', { length: 50 }).unique(),
  ownerId: pg.integer('owner_id'),
  qty: pg.integer('qty').notNull().default(0),
  label: pg.varchar('label', { length: 50 }).default('none'),
});
const myGadgets = my.mysqlTable('gadgets', {
  id: my.serial('id').primaryKey(),
  name: my.varchar('name', { length: 50 }).notNull().unique(),
  slug: my.varchar('slug', { length: 50 }).unique(),
  ownerId: my.int('owner_id'),
  qty: my.int('qty').notNull().default(0),
  label: my.varchar('label', { length: 50 }).default('none'),
});
type Gadgets = typeof pgGadgets | typeof myGadgets;

/** Defaults that make the insert of a new gadget fail, and how the failure is classified. */
const FAILURES: {
  name: string;
  defaults: Record<string, unknown>;
  kind: ErrorKind;
  constraint?: string;
}[] = [
  {
    name: 'another unique key',
    defaults: { slug: 'taken-slug' },
    kind: 'unique_violation',
    constraint: 'gadgets_slug_unique',
  },
  {
    name: 'a foreign key',
    defaults: { ownerId: 999 },
    kind: 'foreign_key_violation',
    constraint: 'gadgets_owner_fk',
  },
  { name: 'NOT NULL', defaults: { label: null }, kind: 'not_null_violation' },
  {
    name: 'a check',
    defaults: { qty: -1 },
    kind: 'check_violation',
    constraint: 'gadgets_qty_check',
  },
];

type Helper = (tx: Database, T: Gadgets, defaults: Record<string, unknown>) => Promise<unknown>;
const HELPERS: Record<string, Helper> = {
  "getOrCreate (prefer 'get')": (tx, T, defaults) =>
    getOrCreate(tx, T, { where: { name: 'new' }, defaults }),
  "getOrCreate (prefer 'create')": (tx, T, defaults) =>
    getOrCreate(tx, T, { where: { name: 'new' }, defaults, prefer: 'create' }),
  selectForUpdateOrCreate: (tx, T, defaults) =>
    selectForUpdateOrCreate(tx, T, { where: { name: 'new' }, defaults }),
  // Two keys: the row written before the failing one must go with it (the call is all or
  // nothing inside the caller's transaction).
  getOrCreateMany: (tx, T, defaults) =>
    getOrCreateMany(tx, T, {
      where: [{ name: 'new' }, { name: 'early' }],
      defaults: (where) => (where.name === 'new' ? defaults : {}),
    }),
  // `set` names a column the failure does not (set wins over createDefaults).
  updateOrCreate: (tx, T, defaults) =>
    updateOrCreate(tx, T, {
      where: { name: 'new' },
      set: 'qty' in defaults ? { label: 'set' } : { qty: 1 },
      createDefaults: defaults,
    }),
};

describeDialects('a failed create leaves the caller’s transaction usable (#20463)', (t) => {
  let T: Gadgets;
  beforeAll(async () => {
    const pgDdl = t.kind === 'postgres';
    await t.connection.query('create table owners (id int primary key)');
    await t.connection.query(
      `create table gadgets (
        id serial primary key,
        name varchar(50) not null,
        slug varchar(50),
        owner_id int,
        qty int not null default 0,
        label varchar(50) ${pgDdl ? "default 'none'" : "default 'none'"} not null,
        constraint gadgets_name_unique unique (name),
        constraint gadgets_slug_unique unique (slug),
        constraint gadgets_owner_fk foreign key (owner_id) references owners (id),
        constraint gadgets_qty_check check (qty >= 0)
      )`,
    );
    await t.connection.query('create table markers (note varchar(20) not null)');
    T = t.kind === 'postgres' ? pgGadgets : myGadgets;
  });
  beforeEach(async () => {
    await t.connection.query('delete from markers');
    await t.connection.query('delete from gadgets');
    await t.connection.query("insert into gadgets (name, slug) values ('other', 'taken-slug')");
  });

  const mark = (tx: Database, note: string) =>
    (tx as { execute(query: unknown): Promise<unknown> }).execute(
      sql`insert into markers (note) values (${note})`,
    );

  for (const [helperName, helper] of Object.entries(HELPERS)) {
    for (const failure of FAILURES) {
      it(`${helperName}, violating ${failure.name}: rethrown as it is, and the block commits`, async () => {
        let caught: unknown;
        await atomic(t.connection.db, async (tx) => {
          await mark(tx, 'before');
          caught = await helper(tx, T, failure.defaults).then(
            () => undefined,
            (error: unknown) => error,
          );
          await mark(tx, 'after');
        });
        expect(caught).toBeInstanceOf(Error);
        expect(classifyError(caught)).toMatchObject({
          kind: failure.kind,
          retryable: false,
          // MariaDB names no constraint for NOT NULL, PostgreSQL does not name the key of a
          // NOT NULL either; where the server names one, it is the right one.
          ...(failure.constraint ? { constraint: failure.constraint } : {}),
        });
        const notes = await t.connection.query<{ note: string }>('select note from markers');
        expect(notes.map((row) => row.note).sort()).toEqual(['after', 'before']);
        const [count] = await t.connection.query<{ n: number | string }>(
          "select count(*) as n from gadgets where name in ('new', 'early')",
        );
        expect(Number(count?.n)).toBe(0);
      });
    }
  }

  it('updateOrCreate whose UPDATE breaks a check: rethrown as it is, and the block commits', async () => {
    let caught: unknown;
    await atomic(t.connection.db, async (tx) => {
      await mark(tx, 'before');
      caught = await updateOrCreate(tx, T, { where: { name: 'other' }, set: { qty: -1 } }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await mark(tx, 'after');
    });
    expect(classifyError(caught)).toMatchObject({
      kind: 'check_violation',
      constraint: 'gadgets_qty_check',
    });
    const notes = await t.connection.query<{ note: string }>('select note from markers');
    expect(notes.map((row) => row.note).sort()).toEqual(['after', 'before']);
  });

  it('getOrCreateMany whose second batch fails: the first batch’s rows go too, and the block commits', async () => {
    // 1,000 rows a statement at most: key 1000 is in a second batch (keys sorted as text).
    const names = Array.from({ length: 1001 }, (_, i) => `bulk-${String(i).padStart(4, '0')}`);
    let caught: unknown;
    await atomic(t.connection.db, async (tx) => {
      await mark(tx, 'before');
      caught = await getOrCreateMany(tx, T, {
        where: names.map((name) => ({ name })),
        defaults: (where) => (where.name === 'bulk-1000' ? { qty: -1 } : {}),
      }).then(
        () => undefined,
        (error: unknown) => error,
      );
      await mark(tx, 'after');
    });
    expect(classifyError(caught)).toMatchObject({ kind: 'check_violation' });
    const notes = await t.connection.query<{ note: string }>('select note from markers');
    expect(notes.map((row) => row.note).sort()).toEqual(['after', 'before']);
    const [count] = await t.connection.query<{ n: number | string }>(
      "select count(*) as n from gadgets where name like 'bulk-%'",
    );
    expect(Number(count?.n)).toBe(0);
  });
});
