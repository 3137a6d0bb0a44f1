import { describeDialects, type TestConnection } from '@racefree/testkit';
import { DrizzleQueryError, sql } from 'drizzle-orm';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  executeInsert,
  executeRows,
  executeStatement,
  renderOnce,
} from '../src/index.js';

// On mysql2, executeRows / executeStatement send statements to the callback-style connection
// under the promise client Drizzle holds (skipping the wrapper's per-statement stack capture).
// These tests hold that path to what Drizzle's own mysql2 path does.
describeDialects(
  'statements on mysql2',
  (t) => {
    let conn: TestConnection;
    const logged: string[] = [];
    const db = () => conn.db as MySql2Database;
    beforeAll(async () => {
      await t.connection.query(
        'create table events (id int primary key, name varchar(50) not null unique, at datetime not null, day date not null)',
      );
      conn = await t.connect({ max: 2, logger: { logQuery: (query) => logged.push(query) } });
    });
    afterAll(() => conn?.close());

    it('returns rows, counts and dates as Drizzle does (dates as strings), and logs', async () => {
      logged.length = 0;
      const inserted = await executeStatement(
        db(),
        sql`insert into events values (${1}, ${'launch'}, ${'2026-11-23 10:00:00'}, ${'2026-11-23'}) /* mysql-insert */`,
      );
      expect(inserted).toBe(1);
      const rows = await executeRows(db(), sql`select name, at, day from events where id = ${1}`);
      expect(rows).toEqual([{ name: 'launch', at: '2026-11-23 10:00:00', day: '2026-11-23' }]);
      expect(logged.some((q) => q.includes('/* mysql-insert */'))).toBe(true);
    });

    it('fails as Drizzle fails: DrizzleQueryError with the driver error as cause', async () => {
      const error = await executeStatement(
        db(),
        sql`insert into events values (${2}, ${'launch'}, ${'2026-11-23 11:00:00'}, ${'2026-11-23'})`,
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DrizzleQueryError);
      expect((error as DrizzleQueryError).cause).toMatchObject({ errno: 1062 });
      expect(classifyError(error)).toMatchObject({ kind: 'unique_violation' });
    });

    it('runs on the transaction connection inside atomic, and rolls back with it', async () => {
      const byId = renderOnce(
        sql`select count(*) as n from events where id = ${sql.placeholder('id')}`,
      );
      await atomic(db(), async (tx) => {
        await executeStatement(
          tx,
          sql`insert into events values (${3}, ${'inside'}, ${'2026-11-23 12:00:00'}, ${'2026-11-23'})`,
        );
        // Visible in the transaction, not yet outside it.
        expect(await executeRows(tx, byId(tx, { id: 3 }))).toEqual([{ n: 1 }]);
        expect(await t.connection.query('select count(*) as n from events where id = 3')).toEqual([
          { n: 0 },
        ]);
        throw new Error('roll back');
      }).catch(() => undefined);
      expect(await executeRows(db(), byId(db(), { id: 3 }))).toEqual([{ n: 0 }]);
    });

    it('on a single connection, sends a command its connection class built (no options spread), dates still strings', async () => {
      const single = await mysql.createConnection({ uri: t.database.url });
      try {
        const core = (single as unknown as { connection: { query(...args: unknown[]): unknown } })
          .connection;
        const forms: string[] = [];
        const query = core.query.bind(core);
        core.query = (...args: unknown[]) => {
          const text = String((args[0] as { sql?: string }).sql ?? args[0]);
          if (text.includes('from events')) forms.push(args.length === 1 ? 'command' : 'options');
          return query(...args);
        };
        const singleDb = drizzle({ client: single });
        const rows = await executeRows(
          singleDb,
          sql`select name, at, day from events where id = ${1}`,
        );
        expect(rows).toEqual([{ name: 'launch', at: '2026-11-23 10:00:00', day: '2026-11-23' }]);
        // Inside a transaction too, and through a rendered statement.
        const byName = renderOnce(
          sql`select at, day from events where name = ${sql.placeholder('name')}`,
        );
        await atomic(singleDb, async (tx) => {
          expect(await executeRows(tx, byName(tx, { name: 'launch' }))).toEqual([
            { at: '2026-11-23 10:00:00', day: '2026-11-23' },
          ]);
        });
        // (BEGIN and COMMIT are Drizzle's own statements, sent its way.)
        expect(forms).toEqual(['command', 'command']);
      } finally {
        await single.end();
      }
    });

    it('executeInsert returns the row count and the generated id from the INSERT itself', async () => {
      await t.connection.query(
        'create table tickets (id int auto_increment primary key, note varchar(20) not null)',
      );
      const first = await executeInsert(db(), sql`insert into tickets (note) values (${'a'})`);
      const second = await atomic(db(), (tx) =>
        executeInsert(tx, sql`insert into tickets (note) values (${'b'}), (${'c'})`),
      );
      const rows = await executeRows<{ id: number; note: string }>(
        db(),
        sql`select id, note from tickets order by id`,
      );
      expect(first).toEqual({ count: 1, insertId: rows[0]?.id });
      // Several rows: the first id generated, as MySQL reports it.
      expect(second).toEqual({ count: 2, insertId: rows[1]?.id });
      // No AUTO_INCREMENT column: no id.
      expect(
        await executeInsert(
          db(),
          sql`insert into events values (${9}, ${'no-id'}, ${'2026-11-23 10:00:00'}, ${'2026-11-23'})`,
        ),
      ).toEqual({ count: 1, insertId: undefined });
    });
  },
  { kinds: ['mysql'] },
);
