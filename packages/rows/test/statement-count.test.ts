import { atomic } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  getOrCreate,
  KeyMismatchError,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';
import { pinPreferCreate } from './pin-prefer-create.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// Round trips are the cost of these helpers; the package README lists these numbers.
describeDialects('statements per call', (t) => {
  let T: Tables;
  let counted: TestConnection;
  const log: string[] = [];
  const count = async (fn: () => Promise<unknown>) => {
    const before = log.length;
    await fn();
    return log
      .slice(before)
      .filter((q) => !/^(begin|commit|savepoint|release|rollback)/i.test(q.trim())).length;
  };
  beforeAll(async () => {
    T = await createTables(t.connection);
    counted = await t.connect({ max: 2, logger: { logQuery: (query) => log.push(query) } });
    await getOrCreate(counted.db, T.tags, { where: { name: 'warm-up' } });
  });
  beforeEach(() => truncateAll(t.connection));
  // A pin or a learnt choice on tags' name key (pinPreferCreate) ends with its test, failed or not.
  afterEach(() => pinPreferCreate(T.tags, { name: 'any' }, undefined));

  it('getOrCreate: the fast path (row exists) is one statement', async () => {
    await t.connection.query("insert into tags (name) values ('here')");
    expect(await count(() => getOrCreate(counted.db, T.tags, { where: { name: 'here' } }))).toBe(1);
  });

  it('getOrCreate: creating is two statements (read, insert returning), one with prefer: create', async () => {
    expect(await count(() => getOrCreate(counted.db, T.tags, { where: { name: 'new' } }))).toBe(2);
    pinPreferCreate(T.tags, { name: 'new2' }, false);
    const preferCreate = await count(() =>
      getOrCreate(counted.db, T.tags, { where: { name: 'new2' }, prefer: 'create' }),
    );
    expect(preferCreate).toBe(1);
    // The bare insert (pinned) reports the taken key, a SELECT reads it.
    const existing = await count(() =>
      getOrCreate(counted.db, T.tags, { where: { name: 'new2' }, prefer: 'create' }),
    );
    expect(existing).toBe(2);
  });

  /** The first word of each statement one `prefer: 'create'` call on `tags` sends. */
  const preferCreateStatements = async (where: Record<string, unknown>) => {
    const before = log.length;
    await getOrCreate(counted.db, T.tags, { where, prefer: 'create' });
    return log.slice(before).map((q) => q.trim().split(/\s+/, 1)[0]?.toLowerCase());
  };

  it('getOrCreate with prefer: create picks its statement by how often the key was taken', async () => {
    const statements = (name: string) => preferCreateStatements({ name });
    const taken = ['insert', 'select'];
    expect(await statements('g')).toEqual(['insert']);
    // The first calls that find the row: still the bare insert, then a read.
    expect(await statements('g')).toEqual(taken);
    for (let i = 0; i < 7; i++) await statements('g');
    // Eight of the last calls found their row: PostgreSQL switches to its one insert-or-select
    // statement, for existing rows and new ones alike; MySQL has no such statement.
    expect(await statements('g')).toEqual(t.kind === 'postgres' ? ['with'] : taken);
    expect(await statements('g-new')).toEqual(t.kind === 'postgres' ? ['with'] : ['insert']);
    // A run of creates brings back the bare insert.
    for (let i = 0; i < 40; i++) await statements(`g${i}`);
    expect(await statements('g')).toEqual(taken);
  });

  it('getOrCreate with prefer: create learns nothing from calls that fail', async () => {
    await t.connection.query("insert into tags (name, color) values ('m', 'blue')");
    // Twenty calls whose key is taken by a row with another color: each fails (KeyMismatchError).
    for (let i = 0; i < 20; i++) {
      const failed = await getOrCreate(counted.db, T.tags, {
        where: { name: 'm', color: 'red' },
        prefer: 'create',
      }).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(KeyMismatchError);
    }
    // Had they counted as found rows, the next call would send the insert-or-select statement.
    expect(await preferCreateStatements({ name: 'm' })).toEqual(['insert', 'select']);
  });

  it('selectForUpdateOrCreate / updateOrCreate / lockRows / refresh', async () => {
    await t.connection.query("insert into tags (name) values ('row')");
    await t.connection.query('insert into accounts (id, balance) values (1, 0), (2, 0)');
    await atomic(counted.db, async (tx) => {
      expect(
        await count(() => selectForUpdateOrCreate(tx, T.tags, { where: { name: 'row' } })),
      ).toBe(1);
      expect(
        await count(() => selectForUpdateOrCreate(tx, T.tags, { where: { name: 'fresh' } })),
      ).toBe(2);
      expect(
        await count(() =>
          updateOrCreate(tx, T.tags, { where: { name: 'row' }, set: { color: 'x' } }),
        ),
      ).toBe(t.kind === 'postgres' ? 1 : 2);
      expect(await count(() => lockRows(tx, T.accounts, [2, 1]))).toBe(1);
      expect(
        await count(() => refresh(tx, T.accounts, { id: 1, balance: 0 }, { lock: 'update' })),
      ).toBe(1);
    });
  });
});
