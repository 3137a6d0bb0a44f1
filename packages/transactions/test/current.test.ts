import { EventEmitter } from 'node:events';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { atomic, current } from '../src/index.js';
import { activeTransaction, executeStatement } from '../src/internal.js';
import { countRows, countRowsIn, createTextTable } from './support/helpers.js';

/** Resolves on the next turn of the event loop's check phase. */
const nextImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

// Code written against the root `db` (a repository, a helper) joins the transaction atomic
// opened in this async context — through every kind of async hop — and rolls back with it.
describeDialects('current(db) joins the surrounding transaction', (t) => {
  const db = () => t.connection.db;
  const insert = (name: string) =>
    executeStatement(current(db()), sql`insert into things (name) values (${name})`);
  const names = async () =>
    (await t.connection.query<{ name: string }>('select name from things order by name')).map(
      (row) => row.name,
    );

  beforeAll(async () => {
    await createTextTable(t.connection, 'things');
  });
  beforeEach(async () => {
    await t.connection.query('delete from things');
  });

  it('is db itself outside any block, and the block’s transaction inside it', async () => {
    expect(current(db())).toBe(db());
    expect(activeTransaction(db())).toBeUndefined();
    await atomic(db(), async (tx) => {
      expect(current(db())).toBe(tx);
      expect(current(tx)).toBe(tx);
      expect(activeTransaction(db())).toMatchObject({ tx, depth: 0, unmanaged: false });
    });
    expect(current(db())).toBe(db());
  });

  it('work through the root db rolls back with the block, through Promise.all, setImmediate, timers, microtasks and events', async () => {
    const emitter = new EventEmitter();
    await expect(
      atomic(db(), async () => {
        await Promise.all([insert('all-1'), insert('all-2'), insert('all-3')]);
        await new Promise<void>((resolve, reject) => {
          setImmediate(() => {
            insert('immediate').then(async () => {
              await nextImmediate();
              await insert('immediate-chain');
              resolve();
            }, reject);
          });
        });
        await new Promise<void>((resolve, reject) => {
          queueMicrotask(() => void insert('microtask').then(() => resolve(), reject));
        });
        await new Promise<void>((resolve, reject) => {
          setTimeout(() => void insert('timer').then(() => resolve(), reject), 0);
        });
        let fromEvent: Promise<unknown> | undefined;
        emitter.on('go', () => {
          // A listener runs in the context of whoever emits — here, still the block.
          fromEvent = insert('event');
        });
        emitter.emit('go');
        await fromEvent;
        // All eight rows are visible inside the transaction, none outside it.
        expect(await countRowsIn(current(db()), 'things')).toBe(8);
        expect(await countRows(t.connection, 'things')).toBe(0);
        throw new Error('undo it all');
      }),
    ).rejects.toThrow('undo it all');
    expect(await names()).toEqual([]);
  });

  it('the same hops commit together when the block succeeds', async () => {
    await atomic(db(), async () => {
      await Promise.all([insert('a'), insert('b')]);
      await nextImmediate();
      await insert('c');
    });
    expect(await names()).toEqual(['a', 'b', 'c']);
  });

  it('inside a nested block it is the savepoint: a rolled-back nested block takes its root-db work with it', async () => {
    await atomic(db(), async (outer) => {
      await insert('outer-before');
      await atomic(db(), async (inner) => {
        expect(current(db())).toBe(inner);
        expect(current(outer)).toBe(inner); // the outer tx resolves to the open savepoint
        expect(activeTransaction(db())?.depth).toBe(1);
        await Promise.all([insert('kept-1'), nextImmediate().then(() => insert('kept-2'))]);
      });
      await atomic(db(), async () => {
        await Promise.all([insert('undone-1'), nextImmediate().then(() => insert('undone-2'))]);
        throw new Error('inner');
      }).catch(() => undefined);
      expect(current(db())).toBe(outer);
      await insert('outer-after');
    });
    expect(await names()).toEqual(['kept-1', 'kept-2', 'outer-after', 'outer-before']);
  });

  it('two blocks run side by side on one db each get their own transaction', async () => {
    const seen: unknown[] = [];
    const results = await Promise.allSettled([
      atomic(db(), async (tx) => {
        await nextImmediate();
        seen.push(current(db()) === tx);
        await insert('committed');
      }),
      atomic(db(), async (tx) => {
        await nextImmediate();
        seen.push(current(db()) === tx);
        await insert('rolled back');
        throw new Error('only me');
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect(seen).toEqual([true, true]);
    expect(await names()).toEqual(['committed']);
  });

  it('work leaked past the end of its block does not land in a finished transaction', async () => {
    let blockDone!: () => void;
    const afterBlock = new Promise<void>((resolve) => {
      blockDone = resolve;
    });
    let leaked: Promise<unknown> | undefined;
    await atomic(db(), async () => {
      leaked = (async () => {
        await afterBlock;
        // The block has committed: current(db) is db again, so this autocommits on its own.
        expect(current(db())).toBe(db());
        await insert('after the block');
      })();
    });
    blockDone();
    await leaked;
    expect(await names()).toEqual(['after the block']);
  });
});
