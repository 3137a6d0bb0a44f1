import { describeDialects, type DriverName } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleMysqlProxy } from 'drizzle-orm/mysql-proxy';
import { drizzle as drizzleMysql2 } from 'drizzle-orm/mysql2';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePgProxy } from 'drizzle-orm/pg-proxy';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  atomic,
  current,
  type Database,
  managed,
  NotSupportedError,
  onCommit,
  RacefreeError,
} from '../src/index.js';
import { executeStatement, withConnectionTurn } from '../src/internal.js';
import { withRollback } from '../src/testing/index.js';
import { createTextTable, errorOf } from './support/helpers.js';

describe('a Drizzle database on a driver racefree does not support', () => {
  // Drizzle's proxy drivers stand for every other driver (PGlite, HTTP drivers, …): a real
  // Drizzle database whose statements would go through a callback, counted here.
  let sent = 0;
  const callback = async () => {
    sent += 1;
    return { rows: [] };
  };
  const others: Array<[string, Database]> = [
    ['pg-proxy', drizzlePgProxy(callback)],
    ['mysql-proxy', drizzleMysqlProxy(callback)],
  ];

  it.each(others)(
    '%s: refused with NotSupportedError naming the supported drivers, before any SQL',
    async (_name, db) => {
      const refusals: unknown[] = [
        await errorOf(atomic(db, async () => 'never')),
        await errorOf(withRollback(db, async () => 'never')),
        await errorOf(onCommit(() => undefined, { db })),
        (() => {
          try {
            current(db);
          } catch (error) {
            return error;
          }
        })(),
        (() => {
          try {
            managed(db);
          } catch (error) {
            return error;
          }
        })(),
      ];
      for (const error of refusals) {
        expect(error).toBeInstanceOf(NotSupportedError);
        expect(error).toBeInstanceOf(RacefreeError);
        expect((error as Error).message).toMatch(/postgres\.js.*node-postgres.*mysql2/);
      }
      expect(sent).toBe(0);
    },
  );
});

// A node-postgres Client or PoolClient, or one mysql2 connection, is one connection: two
// transactions open on it at once would share it (the second BEGIN lands inside the first).
// atomic blocks on it take turns. Both blocks start in the same tick: without turns, the
// rolled-back block would take the committed block's row with it.
describeDialects('atomic on a database that holds one connection', (t) => {
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const close of closers) await close();
  });
  beforeAll(async () => {
    await createTextTable(t.connection, 'single_notes');
  });
  beforeEach(async () => {
    await t.connection.query('delete from single_notes');
  });

  /** The one-connection databases of this suite's driver. */
  const singles = async (driver: DriverName): Promise<Array<[string, Database]>> => {
    if (driver === 'mysql2') {
      const connection = await mysql.createConnection({ uri: t.database.url });
      closers.push(() => connection.end());
      return [['a mysql2 connection', drizzleMysql2({ client: connection })]];
    }
    const client = new pg.Client({ connectionString: t.database.url });
    await client.connect();
    closers.push(() => client.end());
    const pool = new pg.Pool({ connectionString: t.database.url, max: 2 });
    const poolClient = await pool.connect();
    closers.push(async () => {
      poolClient.release();
      await pool.end();
    });
    return [
      ['a pg Client', drizzleNodePg({ client })],
      ['a pg PoolClient', drizzleNodePg({ client: poolClient })],
    ];
  };

  it('blocks started together take turns: a rollback never takes another block’s rows', async () => {
    if (t.driver === 'postgres-js') return; // postgres.js always holds a pool
    for (const [label, db] of await singles(t.driver)) {
      await t.connection.query('delete from single_notes');
      const insert = (tx: Database, name: string) =>
        executeStatement(tx, sql`insert into single_notes (name) values (${name})`);
      const results = await Promise.allSettled([
        atomic(db, async (tx) => {
          await insert(tx, 'rolled back');
          for (let i = 0; i < 5; i++) await executeStatement(tx, sql`select 1`);
          throw new Error('roll back this one');
        }),
        atomic(db, async (tx) => {
          await insert(tx, 'committed');
        }),
        managed(db).transaction(async (tx) => {
          await insert(tx, 'committed too');
        }),
      ]);
      expect(
        results.map((result) => result.status),
        label,
      ).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      const rows = await t.connection.query<{ name: string }>(
        'select name from single_notes order by id',
      );
      expect(
        rows.map((row) => row.name),
        label,
      ).toEqual(['committed', 'committed too']);
    }
  });

  it('code holding the connection’s turn may use it again; others still wait for the turn', async () => {
    if (t.driver === 'postgres-js') return; // postgres.js always holds a pool
    for (const [label, db] of await singles(t.driver)) {
      await t.connection.query('delete from single_notes');
      const insert = (tx: Database, name: string) =>
        executeStatement(tx, sql`insert into single_notes (name) values (${name})`);
      let entered!: () => void;
      const holding = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const holder = withConnectionTurn(db, async () => {
        entered();
        // Two blocks at once from inside the turn: they take turns with each other, so the
        // rolled-back one cannot take the committed one's row.
        return Promise.allSettled([
          atomic(db, async (tx) => {
            await insert(tx, 'holder, rolled back');
            for (let i = 0; i < 3; i++) await executeStatement(tx, sql`select 1`);
            throw new Error('roll back');
          }),
          atomic(db, (tx) => insert(tx, 'holder')),
        ]);
      });
      await holding;
      const outsider = atomic(db, (tx) => insert(tx, 'outsider'));
      const settled = await holder;
      await outsider;
      expect(
        settled.map((result) => result.status),
        label,
      ).toEqual(['rejected', 'fulfilled']);
      const rows = await t.connection.query<{ name: string }>(
        'select name from single_notes order by id',
      );
      expect(
        rows.map((row) => row.name),
        label,
      ).toEqual(['holder', 'outsider']);
    }
  });

  it('a callee still running when its holder gives the turn back keeps the connection until it ends', async () => {
    if (t.driver === 'postgres-js') return; // postgres.js always holds a pool
    for (const [label, db] of await singles(t.driver)) {
      await t.connection.query('delete from single_notes');
      const insert = (tx: Database, name: string) =>
        executeStatement(tx, sql`insert into single_notes (name) values (${name})`);
      // The first block fails at once, so Promise.all rejects and the holder gives its turn
      // back while the second block is still queued or running on the connection.
      const holder = withConnectionTurn(db, () =>
        Promise.all([
          atomic(db, async () => {
            throw new Error('fails at once');
          }),
          atomic(db, async (tx) => {
            await insert(tx, 'callee');
            for (let i = 0; i < 5; i++) await executeStatement(tx, sql`select 1`);
          }),
        ]),
      ).then(
        () => 'resolved',
        () => 'rejected',
      );
      // Waits for the turn; had it been handed on under the callee, its BEGIN would land in the
      // callee's transaction and its ROLLBACK take the callee's row.
      const outsider = atomic(db, async (tx) => {
        await insert(tx, 'outsider, rolled back');
        throw new Error('roll back');
      }).catch(() => 'rolled back');
      expect(await holder, label).toBe('rejected');
      expect(await outsider, label).toBe('rolled back');
      await atomic(db, async () => undefined); // after everything queued on the connection
      const rows = await t.connection.query<{ name: string }>('select name from single_notes');
      expect(
        rows.map((row) => row.name),
        label,
      ).toEqual(['callee']);
    }
  });
});
