import { behindTransactionPooler, describeDialects } from '@racefree/testkit';
import { drizzle } from 'drizzle-orm/mysql2';
import mysql from 'mysql2/promise';
import { afterAll, expect, it } from 'vitest';
import { atomic, type Database, InvalidArgumentError } from '../src/index.js';
import { dialectOf, executeRows } from '../src/internal.js';
import { parseVersion } from '../src/testing/index.js';
import { errorOf, statementLog } from './support/helpers.js';

// The dialect is detected from the server itself — kind, version, default isolation level —
// once per database object.
describeDialects('dialect detection on the real servers', (t) => {
  const pools: Array<{ end(): Promise<void> }> = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
  });

  it('tells the server kind, its version and its default isolation level', async () => {
    const dialect = await dialectOf(t.connection.db);
    if (t.kind === 'postgres') {
      const [row] = await t.connection.query<{ v: string }>(
        "select current_setting('server_version_num') as v",
      );
      expect(dialect.kind).toBe('postgres');
      expect(dialect.version.major).toBe(Math.floor(Number(row?.v) / 10000));
      expect(dialect.version.major).toBeGreaterThanOrEqual(13);
      expect(dialect.defaultIsolationLevel).toBe('read committed');
      expect(dialect.lockModes).toEqual(['update', 'share', 'no key update', 'key share']);
      expect([dialect.supportsNoWait, dialect.supportsSkipLocked, dialect.supportsLockOf]).toEqual([
        true,
        true,
        true,
      ]);
    } else {
      const [row] = await t.connection.query<{ v: string }>('select version() as v');
      const version = String(row?.v);
      // This machine runs MariaDB; MySQL 8 itself cannot run here (see lock-clause.test.ts).
      expect(version).toMatch(/mariadb/i);
      expect(dialect.kind).toBe('mariadb');
      expect(dialect.version.text).toBe(version);
      expect(`${dialect.version.major}.${dialect.version.minor}`).toBe(
        /^(\d+\.\d+)/.exec(version)?.[1],
      );
      expect(dialect.defaultIsolationLevel).toBe('repeatable read');
      expect(dialect.lockModes).toEqual(['update', 'share']);
      expect(dialect.supportsSkipLocked).toBe(
        dialect.version.major > 10 || dialect.version.minor >= 6,
      );
      expect(dialect.supportsLockOf).toBe(false);
    }
  });

  it('probes once per database object: later calls send no SQL', async () => {
    const log = statementLog();
    const { db } = await t.connect({ max: 1, logger: log.logger });
    const first = dialectOf(db);
    const root = await first;
    const probes = log.statements.length;
    // PostgreSQL: one query; MySQL/MariaDB: version(), then the isolation variable it names.
    expect(probes).toBe(t.kind === 'postgres' ? 1 : 2);
    expect(dialectOf(db)).toBe(first);
    // A transaction atomic() opened shares its root's answer, with no query of its own.
    for (let i = 0; i < 3; i++) {
      await atomic(db, async (tx) => {
        const before = log.statements.length;
        expect(await dialectOf(tx)).toBe(root);
        expect(log.statements.length).toBe(before);
      });
    }
    expect(await dialectOf(db)).toBe(root);
    expect(log.statements.slice(probes).join('\n')).not.toMatch(/version|isolation/);
  });

  it('executeRows rejects on a query it cannot run, never throws synchronously', async () => {
    let returned: Promise<unknown> | undefined;
    expect(() => {
      returned = executeRows(t.connection.db, 42 as never);
    }).not.toThrow();
    await expect(returned).rejects.toThrow();
  });

  // A pooler hands out server sessions opened before the default changed: only a direct
  // connection picks a new database default up.
  it.skipIf(behindTransactionPooler())(
    'follows the server’s default isolation level, and atomic holds nested blocks to it',
    async () => {
      let db: Database;
      if (t.kind === 'postgres') {
        await t.connection.query(
          `alter database ${t.database.name} set default_transaction_isolation = 'repeatable read'`,
        );
        db = (await t.connect({ max: 1 })).db; // its session (opened at first use) picks it up
      } else {
        // MariaDB has the level per session: every connection of this pool starts at READ COMMITTED.
        const pool = mysql.createPool({ uri: t.database.url, connectionLimit: 1 });
        pools.push(pool);
        pool.pool.on('connection', (connection) => {
          connection.query("set session tx_isolation = 'READ-COMMITTED'");
        });
        db = drizzle({ client: pool });
      }
      const expected = t.kind === 'postgres' ? 'repeatable read' : 'read committed';
      try {
        expect((await dialectOf(db)).defaultIsolationLevel).toBe(expected);
      } finally {
        if (t.kind === 'postgres') {
          await t.connection.query(
            `alter database ${t.database.name} reset default_transaction_isolation`,
          );
        }
      }
      await atomic(db, async (tx) => {
        await atomic(tx, async () => {}, { isolationLevel: expected });
        const other = t.kind === 'postgres' ? 'read committed' : 'repeatable read';
        expect(await errorOf(atomic(tx, async () => {}, { isolationLevel: other }))).toBeInstanceOf(
          InvalidArgumentError,
        );
      });
    },
  );
});

it('parseVersion reads MariaDB, MySQL and PostgreSQL version strings', () => {
  expect(parseVersion('10.11.19-MariaDB-0+deb12u1')).toMatchObject({
    major: 10,
    minor: 11,
    patch: 19,
  });
  expect(parseVersion('8.0.36')).toMatchObject({ major: 8, minor: 0, patch: 36 });
  expect(parseVersion('5.7.44-log')).toMatchObject({ major: 5, minor: 7, patch: 44 });
  expect(parseVersion('150020')).toMatchObject({ major: 15, minor: 20 }); // server_version_num
  expect(parseVersion('170010')).toMatchObject({ major: 17, minor: 10 });
  expect(parseVersion('90624')).toMatchObject({ major: 9, minor: 6, patch: 24 });
});
