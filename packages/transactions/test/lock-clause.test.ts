import { describeDialects } from '@racefree/testkit';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { atomic, InvalidArgumentError, type LockMode, NotSupportedError } from '../src/index.js';
import { type Dialect, dialectOf, executeRows } from '../src/internal.js';
import {
  mariadbDialect,
  mysqlDialect,
  parseVersion,
  postgresDialect,
} from '../src/testing/index.js';
import { setDialectForTesting } from '../src/testing/index.js';
import { statementLog } from './support/helpers.js';

const mysql8 = mysqlDialect(parseVersion('8.0.36'), 'repeatable read');
const mysql57 = mysqlDialect(parseVersion('5.7.44'), 'repeatable read');
const mariadb1011 = mariadbDialect(parseVersion('10.11.19-MariaDB'), 'repeatable read');
const mariadb105 = mariadbDialect(parseVersion('10.5.25-MariaDB'), 'repeatable read');
const mariadb102 = mariadbDialect(parseVersion('10.2.44-MariaDB'), 'repeatable read');
const postgres15 = postgresDialect(parseVersion('150020'), 'read committed');

// MySQL 8 cannot run here (this machine has MariaDB), so its renderings are checked as SQL
// text only — labelled as such. PostgreSQL's and MariaDB's are also run on the real servers.
describe('lock clauses: SQL rendering', () => {
  it('MySQL 8 (SQL-rendering only — MySQL 8 cannot run here): FOR SHARE, NOWAIT, SKIP LOCKED, OF', () => {
    expect(mysql8.lockClause('update')).toBe(' FOR UPDATE');
    expect(mysql8.lockClause('share')).toBe(' FOR SHARE');
    expect(mysql8.lockClause('update', { noWait: true })).toBe(' FOR UPDATE NOWAIT');
    expect(mysql8.lockClause('share', { skipLocked: true })).toBe(' FOR SHARE SKIP LOCKED');
    expect(mysql8.lockClause('update', { of: 'books' })).toBe(' FOR UPDATE OF `books`');
    expect(mysql8.lockClause('share', { of: ['books', 'authors'], noWait: true })).toBe(
      ' FOR SHARE OF `books`, `authors` NOWAIT',
    );
    expect(() => mysql8.lockClause('no key update')).toThrow(NotSupportedError);
    expect(() => mysql8.lockClause('key share')).toThrow(NotSupportedError);
    expect(() => mysql8.lockClause('update', { noWait: true, skipLocked: true })).toThrow(
      NotSupportedError,
    );
    expect(() => mysql8.lockClause('update', { of: [] })).toThrow(InvalidArgumentError);
  });

  it('MySQL 5.7 (SQL-rendering only): LOCK IN SHARE MODE; no NOWAIT, SKIP LOCKED or OF', () => {
    expect(mysql57.lockClause('update')).toBe(' FOR UPDATE');
    expect(mysql57.lockClause('share')).toBe(' LOCK IN SHARE MODE');
    expect(() => mysql57.lockClause('update', { noWait: true })).toThrow(NotSupportedError);
    expect(() => mysql57.lockClause('update', { skipLocked: true })).toThrow(NotSupportedError);
    expect(() => mysql57.lockClause('update', { of: 'books' })).toThrow(NotSupportedError);
  });

  it('MariaDB: LOCK IN SHARE MODE, NOWAIT from 10.3, SKIP LOCKED only from 10.6, never OF', () => {
    expect(mariadb1011.lockClause('share')).toBe(' LOCK IN SHARE MODE');
    expect(mariadb1011.lockClause('share', { noWait: true })).toBe(' LOCK IN SHARE MODE NOWAIT');
    expect(mariadb1011.lockClause('update', { skipLocked: true })).toBe(' FOR UPDATE SKIP LOCKED');
    expect(() => mariadb1011.lockClause('update', { of: 'books' })).toThrow(NotSupportedError);
    expect(() => mariadb1011.lockClause('no key update')).toThrow(NotSupportedError);
    expect(mariadb105.lockClause('update', { noWait: true })).toBe(' FOR UPDATE NOWAIT');
    expect(() => mariadb105.lockClause('update', { skipLocked: true })).toThrow(
      /SKIP LOCKED is not supported by MariaDB 10\.5.*from 10\.6/,
    );
    expect(() => mariadb102.lockClause('update', { noWait: true })).toThrow(NotSupportedError);
  });

  it('PostgreSQL: all four modes, NOWAIT, SKIP LOCKED, OF', () => {
    expect(postgres15.lockClause('update')).toBe(' FOR UPDATE');
    expect(postgres15.lockClause('no key update')).toBe(' FOR NO KEY UPDATE');
    expect(postgres15.lockClause('share')).toBe(' FOR SHARE');
    expect(postgres15.lockClause('key share')).toBe(' FOR KEY SHARE');
    expect(postgres15.lockClause('update', { of: 'books', skipLocked: true })).toBe(
      ' FOR UPDATE OF "books" SKIP LOCKED',
    );
    expect(postgres15.lockClause('share', { of: ['books', 'we"ird'], noWait: true })).toBe(
      ' FOR SHARE OF "books", "we""ird" NOWAIT',
    );
    expect(() => postgres15.lockClause('exclusive' as LockMode)).toThrow(NotSupportedError);
  });
});

// The clauses the real servers' dialects render are run on those servers.
describeDialects('lock clauses on the real servers', (t) => {
  const pg = t.kind === 'postgres';

  it('every clause the detected dialect renders is accepted by the server', async () => {
    const { db } = t.connection;
    await t.connection.query('create table books (id int primary key, author_id int)');
    await t.connection.query('create table authors (id int primary key)');
    await t.connection.query('insert into authors values (1)');
    await t.connection.query('insert into books values (1, 1)');
    const dialect = await dialectOf(db);
    const variants: Array<Parameters<Dialect['lockClause']>[1]> = [
      {},
      { noWait: true },
      { skipLocked: true },
      ...(dialect.supportsLockOf ? [{ of: 'b' }, { of: ['b', 'a'], noWait: true }] : []),
    ];
    let ran = 0;
    for (const mode of dialect.lockModes) {
      for (const options of variants) {
        const clause = dialect.lockClause(mode, options);
        const rows = await atomic(db, (tx) =>
          executeRows(
            tx,
            sql.raw(`select b.id from books b join authors a on a.id = b.author_id${clause}`),
          ),
        );
        expect(rows).toHaveLength(1);
        ran += 1;
      }
    }
    expect(ran).toBe(pg ? 4 * 5 : 2 * 3);
  });

  if (t.kind === 'mysql') {
    it('the trap the dialect avoids: MariaDB rejects FOR SHARE (syntax error)', async () => {
      await expect(t.connection.query('select 1 from books for share')).rejects.toMatchObject({
        errno: 1064,
      });
    });

    it('a MariaDB older than 10.6 gets NotSupportedError for SKIP LOCKED before any SQL', async () => {
      const log = statementLog();
      const { db } = await t.connect({ max: 1, logger: log.logger });
      setDialectForTesting(db, mariadb105); // as if the server were 10.5
      const dialect = await dialectOf(db);
      expect(() => dialect.lockClause('update', { skipLocked: true })).toThrow(NotSupportedError);
      expect(log.statements).toEqual([]);
    });
  }
});
