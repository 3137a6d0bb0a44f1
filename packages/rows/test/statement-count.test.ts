import { atomic, type Database } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  getOrCreate,
  getOrCreateMany,
  KeyMismatchError,
  lockRows,
  refresh,
  selectForUpdateOrCreate,
  updateOrCreate,
} from '../src/index.js';
import { useInsertBlocks } from '../src/testing/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// The statements each call sends, by first word, as the server receives them — transaction
// control included (postgres.js sends BEGIN and SAVEPOINT itself, past Drizzle's logger: its
// own debug hook sees them). They depend only on the call, the dialect and what the database
// answers — never on what earlier calls did — so a bug report can be replayed. The package
// README lists these sequences.
describeDialects('statements per call', (t) => {
  let T: Tables;
  let db: Database;
  const sent: string[] = [];
  const record = (query: string) => {
    const word = query.trim().split(/\s+/, 1)[0]?.toLowerCase() ?? '';
    // mysql2 and node-postgres: Drizzle sends BEGIN itself as `begin`; MySQL may `start`.
    sent.push(word === 'start' ? 'begin' : word);
  };
  let close = async () => {};
  afterAll(() => close());
  beforeAll(async () => {
    T = await createTables(t.connection);
    if (t.driver === 'postgres-js') {
      const client = postgres(t.database.url, {
        max: 2,
        onnotice: () => {},
        debug: (_connection, query) => record(query),
      });
      db = drizzle({ client });
      close = () => client.end({ timeout: 5 });
    } else {
      db = (await t.connect({ max: 2, logger: { logQuery: record } })).db;
    }
    await getOrCreate(db, T.tags, { where: { name: 'warm-up' } }); // the one-time dialect probe
  });
  beforeEach(() => truncateAll(t.connection));

  /** The statements `fn` sends, by first word. */
  const statements = async (fn: () => Promise<unknown>) => {
    const before = sent.length;
    await fn();
    return sent.slice(before);
  };
  const pg = () => t.kind === 'postgres';
  /**
   * `inner` in a savepoint. postgres.js keeps a savepoint that succeeded open until the
   * transaction ends (it sends no RELEASE); Drizzle's node-postgres and mysql2 sessions release it.
   */
  const inSavepoint = (inner: string[]) =>
    t.driver === 'postgres-js' ? ['savepoint', ...inner] : ['savepoint', ...inner, 'release'];
  /** An insert inside a transaction: in a savepoint on PostgreSQL (#20463), bare on InnoDB. */
  const insertInTransaction = () => (pg() ? inSavepoint(['insert']) : ['insert', 'select']);
  const insertOutside = () => (pg() ? ['insert'] : ['insert', 'select']);

  it('getOrCreate: found is one read; created adds the insert, in a savepoint only inside a transaction', async () => {
    await t.connection.query("insert into tags (name) values ('here')");
    const options = (name: string) => ({ where: { name } });
    expect(await statements(() => getOrCreate(db, T.tags, options('here')))).toEqual(['select']);
    expect(await statements(() => getOrCreate(db, T.tags, options('new')))).toEqual([
      'select',
      ...insertOutside(),
    ]);
    expect(
      await statements(() =>
        atomic(db, async (tx) => {
          await getOrCreate(tx, T.tags, options('here'));
          await getOrCreate(tx, T.tags, options('new in tx'));
        }),
      ),
    ).toEqual(['begin', 'select', 'select', ...insertInTransaction(), 'commit']);
  });

  it("getOrCreate with prefer: 'create': the insert first, a read only when the key is taken", async () => {
    const options = (name: string) => ({ where: { name }, prefer: 'create' as const });
    expect(await statements(() => getOrCreate(db, T.tags, options('c')))).toEqual(insertOutside());
    // The taken key: PostgreSQL's ON CONFLICT reports it, InnoDB's duplicate-key error does.
    const taken = pg() ? ['insert', 'select'] : ['insert', 'select'];
    expect(await statements(() => getOrCreate(db, T.tags, options('c')))).toEqual(taken);
  });

  it('the same call sends the same statements, whatever the calls before it met', async () => {
    const options = (name: string) => ({ where: { name }, prefer: 'create' as const });
    await getOrCreate(db, T.tags, options('seen'));
    const first = await statements(() => getOrCreate(db, T.tags, options('seen')));
    // A history that once taught the process to send another statement: forty calls that all
    // found their row, and twenty that failed on a mismatched row.
    for (let i = 0; i < 40; i++) await getOrCreate(db, T.tags, options('seen'));
    await t.connection.query("insert into tags (name, color) values ('m', 'blue')");
    for (let i = 0; i < 20; i++)
      await expect(
        getOrCreate(db, T.tags, { where: { name: 'm', color: 'red' }, prefer: 'create' }),
      ).rejects.toBeInstanceOf(KeyMismatchError);
    expect(await statements(() => getOrCreate(db, T.tags, options('seen')))).toEqual(first);
    expect(await statements(() => getOrCreate(db, T.tags, options('fresh')))).toEqual(
      insertOutside(),
    );
  });

  it('getOrCreateMany: PostgreSQL inserts first (two statements at most); MariaDB reads, then one block', async () => {
    await t.connection.query("insert into tags (name) values ('m-old')");
    const call = (names: string[]) =>
      statements(() => getOrCreateMany(db, T.tags, { where: names.map((name) => ({ name })) }));
    // PostgreSQL's insert is a data-modifying WITH (`with … as (insert …) select …`); MariaDB's
    // INSERTs and the read of their rows are one compound statement (`begin not atomic …`).
    expect(await call(['m-a', 'm-b', 'm-c'])).toEqual(pg() ? ['with'] : ['select', 'begin']);
    expect(await call(['m-old', 'm-a', 'm-d'])).toEqual(
      pg() ? ['with', 'select'] : ['select', 'begin'],
    );
    expect(await call(['m-old', 'm-a'])).toEqual(pg() ? ['with', 'select'] : ['select']);
    expect(
      await statements(() =>
        atomic(db, (tx) => getOrCreateMany(tx, T.tags, { where: [{ name: 'm-e' }] })),
      ),
    ).toEqual([
      'begin',
      // The whole call in one savepoint: a later row's failure takes the earlier rows with it.
      ...inSavepoint(pg() ? ['with'] : ['select', 'begin']),
      'commit',
    ]);
  });

  it.skipIf(t.kind !== 'mysql')(
    'getOrCreateMany on MySQL (insert blocks off): one INSERT per new row, then one read',
    async () => {
      await t.connection.query("insert into tags (name) values ('m-old')");
      useInsertBlocks(false);
      try {
        const call = (names: string[]) =>
          statements(() => getOrCreateMany(db, T.tags, { where: names.map((name) => ({ name })) }));
        expect(await call(['m-a', 'm-b', 'm-c'])).toEqual([
          'select',
          'insert',
          'insert',
          'insert',
          'select',
        ]);
        expect(await call(['m-old', 'm-a', 'm-d'])).toEqual(['select', 'insert', 'select']);
      } finally {
        useInsertBlocks(true);
      }
    },
  );

  it('updateOrCreate outside a transaction opens its own, with no savepoint for its create', async () => {
    const created = await statements(() =>
      updateOrCreate(db, T.tags, { where: { name: 'own' }, set: { color: 'x' } }),
    );
    expect(created).toEqual(
      pg()
        ? ['begin', 'update', 'insert', 'commit']
        : // its own transaction is READ COMMITTED on InnoDB: Drizzle sets the level first
          ['set', 'begin', 'update', 'insert', 'select', 'commit'],
    );
  });

  it('selectForUpdateOrCreate / updateOrCreate / lockRows / refresh', async () => {
    await t.connection.query("insert into tags (name) values ('row')");
    await t.connection.query('insert into accounts (id, balance) values (1, 0), (2, 0)');
    const inside = await statements(() =>
      atomic(db, async (tx) => {
        await selectForUpdateOrCreate(tx, T.tags, { where: { name: 'row' } });
        await selectForUpdateOrCreate(tx, T.tags, { where: { name: 'fresh' } });
        await updateOrCreate(tx, T.tags, { where: { name: 'row' }, set: { color: 'x' } });
        await lockRows(tx, T.accounts, [2, 1]);
        await refresh(tx, T.accounts, { id: 1, balance: 0 }, { lock: 'update' });
      }),
    );
    expect(inside).toEqual([
      'begin',
      'select',
      'select',
      ...insertInTransaction(),
      // In a savepoint on PostgreSQL: a failing UPDATE (a check) must not end the transaction.
      ...(pg() ? inSavepoint(['update']) : ['update', 'select']),
      'select',
      'select',
      'commit',
    ]);
  });
});
