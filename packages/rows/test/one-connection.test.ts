import { atomic, type Database } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { drizzle as drizzleMysql2 } from 'drizzle-orm/mysql2';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreate, refresh } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// A node-postgres Client or one mysql2 connection is one connection: racefree's statements take
// turns with the transactions open on it (the connection would otherwise mix them).
describeDialects(
  'helpers on a database that holds one connection',
  (t) => {
    let T: Tables;
    let db: Database;
    let close = async () => {};
    beforeAll(async () => {
      T = await createTables(t.connection);
      if (t.driver === 'mysql2') {
        const connection = await mysql.createConnection({ uri: t.database.url });
        db = drizzleMysql2({ client: connection });
        close = () => connection.end();
      } else {
        const client = new pg.Client({ connectionString: t.database.url });
        await client.connect();
        db = drizzleNodePg({ client });
        close = () => client.end();
      }
    });
    afterAll(() => close());
    beforeEach(() => truncateAll(t.connection));

    it('a defaults function may call a helper on the same database (it holds the turn already)', async () => {
      const { row, created } = await getOrCreate(db, T.tags, {
        where: { name: 'outer' },
        defaults: async () => {
          const inner = await getOrCreate(db, T.tags, { where: { name: 'inner' } });
          return { color: `after ${inner.row.name}` };
        },
      });
      expect(created).toBe(true);
      expect(row.color).toBe('after inner');
    });

    it('refresh outside a transaction waits for the one open on the connection, never reads inside it', async () => {
      await t.connection.query('insert into accounts (id, balance) values (1, 10)');
      let opened!: () => void;
      const isOpen = new Promise<void>((resolve) => {
        opened = resolve;
      });
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      const block = atomic(db, async (tx) => {
        await executeStatement(tx, sql`update accounts set balance = 99 where id = 1`);
        opened();
        await finished;
        throw new Error('roll back');
      }).catch(() => 'rolled back');
      await isOpen;
      const reading = refresh(db, T.accounts as never, { id: 1, balance: 0 } as never);
      // Time for a read that does not wait to reach the connection, ahead of the ROLLBACK.
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
      finish();
      expect(await block).toBe('rolled back');
      // Had the read joined the open transaction, it would have seen its 99.
      expect(((await reading) as { balance: number }).balance).toBe(10);
    });
  },
  { drivers: ['node-postgres', 'mysql2'] },
);
