import type { Answer, Driver } from './driver.js';

/**
 * postgres.js (3.4+ and 4) under `drizzle-orm/postgres-js`. `db.execute` resolves with the rows
 * themselves (an array, `count` the rows written). A builder is run `.prepare()`d: Drizzle's
 * postgres-js session sends unprepared statements, and postgres.js describes every
 * parameterized one it has not prepared before binding it — two round trips instead of one.
 * A client opened with `prepare: false` (behind PgBouncer in transaction mode) keeps them
 * unnamed: postgres.js honours its own option over the query's.
 */
export const postgresJs: Driver = {
  name: 'postgres.js',
  family: 'postgres',
  databaseClass: 'PostgresJsDatabase',
  transactionClass: 'PostgresJsTransaction',
  answer(result): Answer {
    const rows = result as Record<string, unknown>[] & { count?: number };
    return { rows, rowCount: rows.count ?? rows.length, insertId: undefined, sets: [rows] };
  },
  run(query) {
    // The name is Drizzle's signal to prepare; postgres.js names and caches the statement
    // itself, per connection, by its text.
    return query.prepare ? query.prepare('racefree').execute() : Promise.resolve(query);
  },
  prepare: (query) => query.prepare('racefree'),
  // `sql.reserve()` hands out one connection, with `release`; the client itself is a pool.
  holdsOneConnection: (client) => typeof (client as { release?: unknown }).release === 'function',
  guard: () => {},
  abandonLostTransactions: true,
};
