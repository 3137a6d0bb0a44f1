import { atomic, classifyError } from '@racefree/transactions';
import { describeDialects } from '@racefree/testkit';
import * as my from 'drizzle-orm/mysql-core';
import { afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreateMany } from '../src/index.js';
import { useInsertBlocks } from '../src/testing/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// MariaDB sends a batch's INSERTs as one compound statement; MySQL sends one INSERT per row,
// which MariaDB does too with insert blocks turned off. Both must answer alike.
describeDialects(
  'getOrCreateMany on MariaDB: insert blocks against one INSERT per row',
  (t) => {
    let T: Tables;
    beforeAll(async () => {
      T = await createTables(t.connection);
    });
    beforeEach(() => truncateAll(t.connection));
    afterEach(() => useInsertBlocks(true));

    const tagNames = async () =>
      (await t.connection.query<{ name: string }>('select name from tags order by name')).map(
        (row) => row.name,
      );

    /** `call` one INSERT per row, then with insert blocks, each time after `reset`. */
    async function bothWays<R>(reset: () => Promise<void>, call: () => Promise<R>) {
      const answers: R[] = [];
      for (const blocks of [false, true]) {
        useInsertBlocks(blocks);
        await reset();
        answers.push(await call());
      }
      useInsertBlocks(true);
      return answers;
    }

    /** A run of calls covering what a batch meets, answered without ids (the paths differ there). */
    async function script(db: typeof t.connection.db) {
      await t.connection.query(
        "insert into tags (name, color) values ('old', 'grey'), ('Mixed', 'grey')",
      );
      const answers: unknown[] = [];
      const call = async (names: string[], inTransaction: boolean) => {
        const run = (target: typeof db) =>
          getOrCreateMany(target, T.tags, {
            where: names.map((name) => ({ name })),
            defaults: (where) => ({ color: `c-${String(where.name).length}` }),
          });
        const results = inTransaction ? await atomic(db, run) : await run(db);
        answers.push(
          results.map(({ row, created }) => ({ name: row.name, color: row.color, created })),
        );
      };
      await call(['a', 'b', 'old', 'c', 'a'], false);
      // Spellings the collation holds equal, within one batch and against a stored row.
      await call(['Dup', 'DUP', 'dup ', 'mixed', 'e'], false);
      await call(['f', 'F', 'old', 'g'], true);
      await call(
        Array.from({ length: 1203 }, (_, i) => `bulk-${i % 1100}`),
        false,
      );
      return { answers, stored: await tagNames() };
    }

    it('the same answers and the same rows, outside and inside a transaction', async () => {
      const [rowByRow, blocks] = await bothWays(
        () => truncateAll(t.connection),
        () => script(t.connection.db),
      );
      expect(blocks).toEqual(rowByRow);
      // What the script must find, so that the comparison above compares something.
      // Items are inserted in the order of their values' text ('DUP' first); the first item by
      // position that names the created row says created.
      expect(rowByRow?.answers[1]).toEqual([
        { name: 'DUP', color: 'c-3', created: true },
        { name: 'DUP', color: 'c-3', created: false },
        { name: 'DUP', color: 'c-3', created: false },
        { name: 'Mixed', color: 'grey', created: false },
        { name: 'e', color: 'c-1', created: true },
      ]);
    });

    it('a key of a custom type is sent through its column, as the INSERT sends it', async () => {
      // A uuid kept as binary(16): the driver value is a Buffer, not the string asked for.
      const uuidBytes = my.customType<{ data: string; driverData: Buffer }>({
        dataType: () => 'binary(16)',
        toDriver: (value) => Buffer.from(value.replaceAll('-', ''), 'hex'),
        fromDriver: (value) => value.toString('hex'),
      });
      const devices = my.mysqlTable('devices', {
        id: my.serial('id').primaryKey(),
        ext: uuidBytes('ext').notNull().unique(),
      });
      await t.connection.query(
        'create table devices (id serial primary key, ext binary(16) not null, constraint devices_ext_unique unique (ext))',
      );
      const [a, b] = [
        '0f8fad5b-d9cb-469f-a165-70867728950e',
        '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      ];
      const answers = await bothWays(
        async () => {
          await t.connection.query('delete from devices');
          await t.connection.query(
            `insert into devices (ext) values (x'${b.replaceAll('-', '')}')`,
          );
        },
        async () =>
          (
            await getOrCreateMany(t.connection.db, devices, {
              where: [{ ext: a }, { ext: b }],
            })
          ).map(({ row, created }) => [row.ext, created]),
      );
      expect(answers[1]).toEqual(answers[0]);
      expect(answers[0]).toEqual([
        [a.replaceAll('-', ''), true],
        [b.replaceAll('-', ''), false],
      ]);
    });

    it('two spellings of one key stored as a third: created once, by the first asked', async () => {
      // char(8) drops trailing spaces: 'ab ' and 'ab  ' are both stored as 'ab'.
      const codes = my.mysqlTable('codes', {
        id: my.serial('id').primaryKey(),
        code: my.char('code', { length: 8 }).notNull().unique(),
      });
      await t.connection.query(
        'create table codes (id serial primary key, code char(8) not null, constraint codes_code_unique unique (code))',
      );
      const answers = await bothWays(
        () => t.connection.query('delete from codes').then(() => undefined),
        async () =>
          (
            await getOrCreateMany(t.connection.db, codes, {
              where: [{ code: 'ab ' }, { code: 'ab  ' }],
            })
          ).map(({ row, created }) => [row.code, created]),
      );
      expect(answers).toEqual([
        [
          ['ab', true],
          ['ab', false],
        ],
        [
          ['ab', true],
          ['ab', false],
        ],
      ]);
    });

    it("a batch bigger than the server's max_allowed_packet is split into blocks", async () => {
      const notes = my.mysqlTable('notes', {
        id: my.serial('id').primaryKey(),
        name: my.varchar('name', { length: 100 }).notNull().unique(),
        body: my.mediumtext('body'),
      });
      await t.connection.query(
        'create table notes (id serial primary key, name varchar(100) not null, body mediumtext, constraint notes_name_unique unique (name))',
      );
      const [limit] = await t.connection.query<{ bytes: number | string }>(
        'select @@max_allowed_packet as bytes',
      );
      const body = 'x'.repeat(40_000);
      const names = Array.from({ length: 600 }, (_, i) => `note-${i}`);
      expect(names.length * body.length).toBeGreaterThan(Number(limit?.bytes));
      const results = await getOrCreateMany(t.connection.db, notes, {
        where: names.map((name) => ({ name })),
        defaults: { body },
      });
      expect(results.every((result) => result.created && result.row.body === body)).toBe(true);
      const [count] = await t.connection.query<{ n: number | string }>(
        'select count(*) as n from notes',
      );
      expect(Number(count?.n)).toBe(600);
    });

    it('another unique key colliding outside a transaction: thrown as it is; the block writes none of its batch', async () => {
      await t.connection.query("insert into tags (name, slug) values ('taken', 'dup-slug')");
      const one = await t.connect({ max: 1 });
      try {
        const attempt = () =>
          getOrCreateMany(one.db, T.tags, {
            where: [{ name: 'p' }, { name: 'q' }, { name: 'r' }],
            defaults: (where) => ({ slug: where.name === 'q' ? 'dup-slug' : null }),
          }).then(
            () => undefined,
            (error: unknown) => error,
          );
        expect(classifyError(await attempt())).toMatchObject({
          kind: 'unique_violation',
          constraint: 'tags_slug_unique',
        });
        expect(await tagNames()).toEqual(['taken']);
        // The block's own transaction is over: rolled back, not left open on the connection.
        const [state] = await one.query<{ open: number | string }>(
          'select @@in_transaction as open',
        );
        expect(Number(state?.open)).toBe(0);
        // One INSERT per row commits each row on its own: the row before the failing one stays.
        useInsertBlocks(false);
        expect(classifyError(await attempt())).toMatchObject({ kind: 'unique_violation' });
        expect(await tagNames()).toEqual(['p', 'taken']);
      } finally {
        await one.close();
      }
    });

    it("inside the caller's transaction the block opens none: the caller's rollback takes its rows", async () => {
      const rolledBack = new Error('roll back');
      const outcome = await atomic(t.connection.db, async (tx) => {
        await getOrCreateMany(tx, T.tags, { where: [{ name: 'in-1' }, { name: 'in-2' }] });
        throw rolledBack;
      }).catch((error: unknown) => error);
      expect(outcome).toBe(rolledBack);
      expect(await tagNames()).toEqual([]);
    });

    it('the connection is left outside any transaction, at its own isolation level', async () => {
      const pool = await t.connect({ max: 1 });
      try {
        await getOrCreateMany(pool.db, T.tags, { where: [{ name: 'x' }, { name: 'y' }] });
        const [state] = await pool.query<{ open: number | string; level: string }>(
          'select @@in_transaction as open, @@tx_isolation as level',
        );
        expect({ open: Number(state?.open), level: state?.level }).toEqual({
          open: 0,
          level: 'REPEATABLE-READ',
        });
      } finally {
        await pool.close();
      }
    });
  },
  { kinds: ['mysql'] },
);
