import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  current,
  type Database,
  InvalidArgumentError,
  managed,
  onCommit,
  onRollback,
} from '../src/index.js';
import { executeStatement } from '../src/internal.js';
import { countRows, createTextTable, errorOf } from './support/helpers.js';

// managed(db): Drizzle's own db.transaction(), with atomic's semantics. The control test shows
// the race it closes: in a plain db.transaction() a hook registered on db runs before COMMIT.
describeDialects('managed(db): db.transaction is atomic', (t) => {
  let seenAtHook: number[];
  beforeAll(async () => {
    await createTextTable(t.connection, 'users');
  });
  beforeEach(async () => {
    seenAtHook = [];
    await t.connection.query('delete from users');
  });
  /** A hook that records how many users another connection sees when it runs. */
  const countAtHook = () => async () => {
    seenAtHook.push(await countRows(t.connection, 'users'));
  };
  const insertUser = (db: Database, name: string) =>
    executeStatement(db, sql`insert into users (name) values (${name})`);

  it('control: in a plain db.transaction(), a hook on db runs at once, before the commit', async () => {
    const { db } = await t.connect({ max: 2 });
    await db.transaction(async (tx) => {
      await insertUser(tx, 'ada');
      await onCommit(countAtHook()); // no racefree transaction is open: it runs now
    });
    expect(seenAtHook).toEqual([0]);
  });

  it('returns db itself, whose transaction runs hooks after the commit, with retries', async () => {
    const raw = (await t.connect({ max: 2 })).db;
    const db = managed(raw);
    expect(db).toBe(raw);
    expect(managed(db)).toBe(db); // idempotent
    const result = await db.transaction(
      async (tx) => {
        expect(current(db)).toBe(tx);
        await insertUser(current(db), 'ada');
        await onCommit(countAtHook());
        return 'done';
      },
      { retries: 2 },
    );
    expect(result).toBe('done');
    expect(seenAtHook).toEqual([1]);
  });

  it('nested tx.transaction() is a savepoint racefree knows: its hooks go with it', async () => {
    const db = managed((await t.connect({ max: 2 })).db);
    const rolledBack: string[] = [];
    await db.transaction(async (tx) => {
      await insertUser(tx, 'kept');
      const inner = await errorOf(
        tx.transaction(async (sp) => {
          await insertUser(sp, 'undone');
          await onCommit(() => rolledBack.push('commit hook of the undone savepoint ran'));
          await onRollback(() => rolledBack.push('savepoint rolled back'));
          throw new Error('undo the savepoint');
        }),
      );
      expect((inner as Error).message).toBe('undo the savepoint');
      await onCommit(countAtHook());
    });
    expect(rolledBack).toEqual(['savepoint rolled back']);
    expect(seenAtHook).toEqual([1]);
    const names = await t.connection.query<{ name: string }>('select name from users');
    expect(names.map((row) => row.name)).toEqual(['kept']);
  });

  it('a rolled-back transaction runs no commit hook', async () => {
    const db = managed((await t.connect({ max: 2 })).db);
    const error = await errorOf(
      db.transaction(async (tx) => {
        await insertUser(tx, 'ghost');
        await onCommit(countAtHook());
        throw new Error('roll back');
      }),
    );
    expect((error as Error).message).toBe('roll back');
    expect(seenAtHook).toEqual([]);
    expect(await countRows(t.connection, 'users')).toBe(0);
  });

  it('refuses a transaction, and anything that is not a Drizzle database', async () => {
    const db = (await t.connect({ max: 2 })).db;
    await db.transaction(async (tx) => {
      expect(() => managed(tx)).toThrow(InvalidArgumentError);
    });
    expect(() => managed({} as Database)).toThrow(InvalidArgumentError);
  });
});
