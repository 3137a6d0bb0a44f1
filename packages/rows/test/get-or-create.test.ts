import { atomic, RacefreeError } from '@racefree/transactions';
import { executeRows } from '@racefree/transactions/internal';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreate, KeyMismatchError, NoUniqueKeyError } from '../src/index.js';
import { countRows, createTables, type Tables, truncateAll } from './schema.js';

describeDialects('getOrCreate', (t) => {
  let T: Tables;
  const db = () => t.connection.db;
  beforeAll(async () => {
    T = await createTables(t.connection);
  });
  beforeEach(() => truncateAll(t.connection));

  it('creates once, then gets the same row', async () => {
    const first = await getOrCreate(db(), T.tags, {
      where: { name: 'sql' },
      defaults: { color: 'blue' },
    });
    expect(first.created).toBe(true);
    expect(first.row).toMatchObject({ name: 'sql', color: 'blue', hits: 0 });
    const second = await getOrCreate(db(), T.tags, {
      where: { name: 'sql' },
      defaults: { color: 'red' },
    });
    expect(second).toEqual({ row: first.row, created: false });
    expect(await countRows(t.connection, 'tags')).toBe(1);
  });

  it('calls a defaults function only when it creates', async () => {
    let calls = 0;
    const defaults = () => {
      calls += 1;
      return { color: 'green' };
    };
    await getOrCreate(db(), T.tags, { where: { name: 'a' }, defaults });
    await getOrCreate(db(), T.tags, { where: { name: 'a' }, defaults });
    expect(calls).toBe(1);
  });

  it('with prefer: create, inserts first and still returns the existing row', async () => {
    const a = await getOrCreate(db(), T.tags, { where: { name: 'x' }, prefer: 'create' });
    const b = await getOrCreate(db(), T.tags, { where: { name: 'x' }, prefer: 'create' });
    expect(a.created).toBe(true);
    expect(b).toEqual({ row: a.row, created: false });
    expect(await countRows(t.connection, 'tags')).toBe(1);
  });

  const PREFERS = ['get', 'create'] as const;

  it('raises KeyMismatchError when the key is taken by a row whose other where columns differ', async () => {
    await getOrCreate(db(), T.tags, { where: { name: 'k', color: 'blue' } });
    for (const prefer of PREFERS) {
      await expect(
        getOrCreate(db(), T.tags, { where: { name: 'k', color: 'red' }, prefer }),
      ).rejects.toBeInstanceOf(KeyMismatchError);
    }
    expect(await countRows(t.connection, 'tags')).toBe(1);
  });

  it('rethrows a violation of another unique constraint instead of swallowing it', async () => {
    await getOrCreate(db(), T.tags, { where: { name: 'one' }, defaults: { slug: 'same' } });
    for (const prefer of PREFERS) {
      const error = await getOrCreate(db(), T.tags, {
        where: { name: 'two' },
        defaults: { slug: 'same' },
        prefer,
      }).catch((e) => e);
      expect(error).not.toBeInstanceOf(RacefreeError);
      expect(String(error.cause?.message ?? error.message)).toMatch(/slug|duplicate/i);
    }
  });

  it('refuses a where no unique key covers, before any SQL — unless told duplicates are acceptable', async () => {
    await expect(getOrCreate(db(), T.loose, { where: { name: 'n' } })).rejects.toBeInstanceOf(
      NoUniqueKeyError,
    );
    await expect(getOrCreate(db(), T.tags, { where: { color: 'blue' } })).rejects.toThrow(
      /No unique key of tags covers where \(color\)/,
    );
    const made = await getOrCreate(db(), T.loose, {
      where: { name: 'n' },
      allowWithoutUniqueKey: true,
    });
    expect(made.created).toBe(true);
  });

  it('raises MultipleRowsError when the opt-out lookup matches two rows', async () => {
    await t.connection.query("insert into loose (name) values ('dup'), ('dup')");
    await expect(
      getOrCreate(db(), T.loose, { where: { name: 'dup' }, allowWithoutUniqueKey: true }),
    ).rejects.toMatchObject({ code: 'MULTIPLE_ROWS' });
  });

  it('works on composite unique constraints and composite primary keys', async () => {
    const m = await getOrCreate(db(), T.memberships, {
      where: { org: 1, userName: 'ann' },
      defaults: { role: 'admin' },
    });
    const again = await getOrCreate(db(), T.memberships, {
      where: { org: 1, userName: 'ann' },
      defaults: { role: 'x' },
    });
    expect(again).toEqual({ row: m.row, created: false });
    const p = await getOrCreate(db(), T.pairs, { where: { a: 1, b: 2 }, defaults: { note: 'n' } });
    expect(p).toEqual({ row: { a: 1, b: 2, note: 'n' }, created: true });
  });

  it('inside a transaction: a lost race leaves the transaction usable, and rollback undoes the create', async () => {
    await t.connection.query("insert into tags (name) values ('taken')");
    await atomic(db(), async (tx) => {
      // Read-first misses nothing here; force the insert path with prefer: create.
      const r = await getOrCreate(tx, T.tags, { where: { name: 'taken' }, prefer: 'create' });
      expect(r.created).toBe(false);
      await executeRows(tx, sql`select 1`);
    });
    expect(await countRows(t.connection, 'tags', "name = 'taken'")).toBe(1);
    await expect(
      atomic(db(), async () => {
        await getOrCreate(db(), T.tags, { where: { name: 'rolled back' } });
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await countRows(t.connection, 'tags', "name = 'rolled back'")).toBe(0);
  });
});
