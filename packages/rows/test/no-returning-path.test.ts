import { atomic, type IsolationLevel } from '@racefree/transactions';
import { mariadbDialect, parseVersion } from '@racefree/transactions/testing';
import { setDialectForTesting } from '@racefree/transactions/testing';
import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getOrCreate, selectForUpdateOrCreate } from '../src/index.js';
import { createTables, type Tables, truncateAll } from './schema.js';

// MySQL 8 has no INSERT … RETURNING, so racefree inserts and then reads its own row back. That
// path is exercised for real here by telling racefree the MariaDB server is 10.4 (before
// RETURNING); every statement still runs on the real server.
describeDialects(
  'the no-RETURNING insert path (as on MySQL 8), on a real server',
  (t) => {
    let T: Tables;
    let pool: TestConnection;
    beforeAll(async () => {
      T = await createTables(t.connection);
      pool = await t.connect({ max: 16 });
      setDialectForTesting(
        pool.db,
        mariadbDialect(parseVersion('10.4.0-MariaDB'), 'repeatable read'),
      );
    });
    beforeEach(() => truncateAll(t.connection));

    it('one table on a server with RETURNING and one without: each sends its own INSERT', async () => {
      // Both databases share the table's statement cache: a text kept for one server's insert
      // must never be sent on the other's.
      const sent: { db: 'returning' | 'no-returning'; query: string }[] = [];
      const logTo = (db: 'returning' | 'no-returning') => ({
        logQuery: (query: string) => sent.push({ db, query }),
      });
      const withReturning = await t.connect({ max: 2, logger: logTo('returning') });
      const without = await t.connect({ max: 2, logger: logTo('no-returning') });
      try {
        setDialectForTesting(
          without.db,
          mariadbDialect(parseVersion('10.4.0-MariaDB'), 'repeatable read'),
        );
        // The real server answers the probe for `withReturning` (10.11: RETURNING).
        await getOrCreate(withReturning.db, T.tags, { where: { name: 'probe' } });
        sent.length = 0;
        for (const [i, db] of [withReturning, without, withReturning, without].entries()) {
          const { created } = await getOrCreate(db.db, T.tags, {
            where: { name: `both-${i}` },
            prefer: 'create',
          });
          expect(created).toBe(true);
        }
        const inserts = sent.filter((s) => /^insert/i.test(s.query));
        expect(inserts.map((s) => [s.db, /\breturning\b/i.test(s.query)])).toEqual([
          ['returning', true],
          ['no-returning', false],
          ['returning', true],
          ['no-returning', false],
        ]);
      } finally {
        await withReturning.close();
        await without.close();
      }
    });

    for (const level of ['read committed', 'repeatable read'] as IsolationLevel[]) {
      it(`64 callers, 5 keys, at ${level}: one row each, no errors`, async () => {
        const outcome = await race(64, (caller) =>
          atomic(
            pool.db,
            (tx) =>
              caller % 2
                ? getOrCreate(tx, T.tags, { where: { name: `k${caller % 5}` }, prefer: 'create' })
                : selectForUpdateOrCreate(tx, T.tags, { where: { name: `k${caller % 5}` } }),
            { isolationLevel: level, retries: { retries: 30, baseDelayMs: 2, maxDelayMs: 50 } },
          ),
        );
        expect(outcome.errors).toEqual([]);
        const [row] = await t.connection.query<{ n: number; d: number }>(
          'select count(*) as n, count(distinct name) as d from tags',
        );
        expect([Number(row?.n), Number(row?.d)]).toEqual([5, 5]);
      });
    }
  },
  { kinds: ['mysql'] },
);
