import { atomic, type Database, RacefreeError } from '@racefree/transactions';
import { describeDialects, type TestConnection } from '@racefree/testkit';
import { beforeAll, expect, it } from 'vitest';
import {
  getOrCreate,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';
import { createTables, mysqlTables, pgTables, type Tables } from './schema.js';

describeDialects('bad input is refused before any SQL', (t) => {
  let T: Tables;
  let counted: TestConnection;
  const statements: string[] = [];
  beforeAll(async () => {
    T = await createTables(t.connection);
    counted = await t.connect({ max: 2, logger: { logQuery: (query) => statements.push(query) } });
    await getOrCreate(counted.db, T.tags, { where: { name: 'warm-up' } }); // the one-time dialect probe
  });

  /** Calls that open a transaction first: its BEGIN/ROLLBACK are the test's, not the helper's SQL. */
  const inTransaction = (fn: (tx: Database) => Promise<unknown>) => () => atomic(counted.db, fn);
  const transactionControl = /^\s*(begin|start transaction|commit|rollback)\b/i;

  const cases: [string, () => Promise<unknown>, { opensTransaction?: boolean }?][] = [
    ['empty where', () => getOrCreate(counted.db, T.tags, { where: {} })],
    [
      'unknown column in object defaults',
      () =>
        getOrCreate(counted.db, T.tags, { where: { name: 'x' }, defaults: { nope: 1 } as never }),
    ],
    [
      'unknown column',
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x', nope: 1 } as never }),
    ],
    [
      'prototype-polluting key',
      () =>
        getOrCreate(counted.db, T.tags, {
          where: JSON.parse('{"name":"x","__proto__":{"polluted":true}}'),
        }),
    ],
    [
      'constructor key',
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x', constructor: 1 } as never }),
    ],
    [
      'symbol key',
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x', [Symbol('s')]: 1 } as never }),
    ],
    [
      'undefined value',
      () => getOrCreate(counted.db, T.tags, { where: { name: undefined } as never }),
    ],
    [
      'huge where',
      () =>
        getOrCreate(counted.db, T.tags, {
          where: Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`c${i}`, i])) as never,
        }),
    ],
    [
      'where that is not an object',
      () => getOrCreate(counted.db, T.tags, { where: 'name = 1' as never }),
    ],
    ['no covering unique key', () => getOrCreate(counted.db, T.tags, { where: { color: 'red' } })],
    ['not a table', () => getOrCreate(counted.db, {} as never, { where: { name: 'x' } } as never)],
    ['not a database', () => getOrCreate({} as never, T.tags, { where: { name: 'x' } })],
    [
      'table of the other dialect',
      () =>
        getOrCreate(counted.db, (t.kind === 'postgres' ? mysqlTables : pgTables).tags as never, {
          where: { name: 'x' } as never,
        }),
    ],
    [
      'set that changes the primary key',
      () => updateOrCreate(counted.db, T.tags, { where: { name: 'x' }, set: { id: 99 } as never }),
    ],
    ['empty set', () => updateOrCreate(counted.db, T.tags, { where: { name: 'x' }, set: {} })],
    ['refresh of a table without a primary key', () => refresh(counted.db, T.nokey, { name: 'x' })],
    ['refresh of a row without its key', () => refresh(counted.db, T.tags, { name: 'x' } as never)],
    [
      'selectForUpdateOrCreate outside a transaction',
      () => selectForUpdateOrCreate(counted.db, T.tags, { where: { name: 'x' } }),
    ],
    [
      'updateOrCreate with createDefaults naming an unknown column',
      () =>
        updateOrCreate(counted.db, T.tags, {
          where: { name: 'x' },
          set: { color: 'red' },
          createDefaults: { nope: 1 } as never,
        }),
    ],
    [
      'selectForUpdateOrCreate with defaults naming an unknown column',
      inTransaction((tx) =>
        selectForUpdateOrCreate(tx, T.tags, {
          where: { name: 'x' },
          defaults: { nope: 1 } as never,
        }),
      ),
      { opensTransaction: true },
    ],
    [
      'lockRows with a bad timeout',
      inTransaction((tx) => lockRows(tx, T.accounts, [1], { timeoutMs: -5 })),
      { opensTransaction: true },
    ],
    [
      "prefer that is neither 'get' nor 'create'",
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x' }, prefer: 'fast' as never }),
    ],
    [
      'prefer that is a number',
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x' }, prefer: 42 as never }),
    ],
    [
      'an option getOrCreate does not take (a typo)',
      () => getOrCreate(counted.db, T.tags, { where: { name: 'x' }, defualts: {} } as never),
    ],
    [
      'a flag that is not a boolean',
      inTransaction((tx) =>
        selectForUpdateOrCreate(tx, T.tags, { where: { name: 'x' }, skipLocked: 'yes' as never }),
      ),
      { opensTransaction: true },
    ],
    [
      'lockRows with an option it does not take',
      inTransaction((tx) => lockRows(tx, T.accounts, [1], { nowait: true } as never)),
      { opensTransaction: true },
    ],
    [
      'refresh with an unknown lock',
      inTransaction((tx) =>
        refresh(tx, T.accounts, { id: 1, balance: 0 }, { lock: 'exclusive' as never }),
      ),
      { opensTransaction: true },
    ],
    [
      'a transaction atomic did not open',
      () =>
        (
          counted.db as unknown as {
            transaction(fn: (tx: Database) => Promise<unknown>): Promise<unknown>;
          }
        ).transaction((tx) => getOrCreate(tx, T.tags, { where: { name: 'x' } })),
      { opensTransaction: true },
    ],
    [
      'lockRows with a composite key given scalars',
      inTransaction((tx) => lockRows(tx, T.pairs, [1, 2])),
      { opensTransaction: true },
    ],
  ];

  for (const [name, call, { opensTransaction = false } = {}] of cases) {
    it(name, async () => {
      const before = statements.length;
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RacefreeError);
      expect((error as RacefreeError).message.length).toBeGreaterThan(20);
      const sent = statements
        .slice(before)
        .filter((query) => !(opensTransaction && transactionControl.test(query)));
      expect(sent).toEqual([]);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  }

  it('getOrCreate rejects bad input, never throws it, also before the dialect is known', async () => {
    // A fresh pool: racefree has not probed its server yet, so the call takes the slow path.
    const fresh = await t.connect({ max: 1 });
    try {
      const calls: (() => Promise<unknown>)[] = [
        () => getOrCreate(fresh.db, {} as never, { where: { name: 'x' } } as never),
        () =>
          getOrCreate(fresh.db, T.tags, { where: { name: 'x' }, defaults: { nope: 1 } as never }),
        () => getOrCreate(fresh.db, T.tags, { where: { nope: 1 } as never }),
      ];
      for (const call of calls) {
        let promise: Promise<unknown> | undefined;
        expect(() => {
          promise = call();
        }).not.toThrow();
        await expect(promise).rejects.toBeInstanceOf(RacefreeError);
      }
    } finally {
      await fresh.close();
    }
  });
});
