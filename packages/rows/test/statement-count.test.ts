import { atomic } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  getOrCreate,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';
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

  it('getOrCreate: the fast path (row exists) is one statement', async () => {
    await t.connection.query("insert into tags (name) values ('here')");
    expect(await count(() => getOrCreate(counted.db, T.tags, { where: { name: 'here' } }))).toBe(1);
  });

  it('getOrCreate: creating is two statements (read, insert returning), one with prefer: create on PostgreSQL', async () => {
    expect(await count(() => getOrCreate(counted.db, T.tags, { where: { name: 'new' } }))).toBe(2);
    const preferCreate = await count(() =>
      getOrCreate(counted.db, T.tags, { where: { name: 'new2' }, prefer: 'create' }),
    );
    expect(preferCreate).toBe(1);
    const existing = await count(() =>
      getOrCreate(counted.db, T.tags, { where: { name: 'new2' }, prefer: 'create' }),
    );
    expect(existing).toBe(t.kind === 'postgres' ? 1 : 2);
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
