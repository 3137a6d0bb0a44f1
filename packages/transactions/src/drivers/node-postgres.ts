import type { Answer, Driver } from './driver.js';

interface Emitter {
  on(event: string, listener: (value: unknown) => void): unknown;
}

const guarded = new WeakSet<object>();

/** Nothing to do: the statement that was running, or the next one, fails with the error. */
function ignore(): void {}

/** Adds the error listener once per pg client. */
function guardClient(client: Emitter): void {
  if (guarded.has(client)) return;
  guarded.add(client);
  client.on('error', ignore);
}

/**
 * node-postgres 8 under `drizzle-orm/node-postgres`, on a `Pool`, a `Client` or a `PoolClient`.
 * `db.execute` resolves with pg's `QueryResult` (`rows`, `rowCount`). Builders run unnamed: pg
 * sends parse, bind and execute in one round trip already, and a named statement would need a
 * name unique per text and per connection — and break behind a transaction pooler.
 */
export const nodePostgres: Driver = {
  name: 'node-postgres',
  family: 'postgres',
  databaseClass: 'NodePgDatabase',
  transactionClass: 'NodePgTransaction',
  answer(result): Answer {
    const { rows = [], rowCount } = result as {
      rows?: Record<string, unknown>[];
      rowCount?: number | null;
    };
    return { rows, rowCount: rowCount ?? rows.length, insertId: undefined, sets: [rows] };
  },
  run: (query) => Promise.resolve(query),
  // Unnamed: pg would make a name a server-side statement (unique per text, per connection,
  // and lost behind a transaction pooler); unnamed it still takes one round trip.
  prepare: (query) => query.prepare(undefined),
  // A pg.Pool counts its clients; a Client or PoolClient is one connection.
  holdsOneConnection: (client) =>
    typeof (client as { totalCount?: unknown }).totalCount !== 'number',
  // A pg client whose connection ends while checked out of its pool emits 'error', and pg-pool
  // listens only while the client is idle: with no listener the event is an uncaught
  // exception, and Drizzle's transaction holds its PoolClient without one. pg-pool's
  // documented 'acquire' event hands every client over as it is checked out; a Client or
  // PoolClient given to Drizzle is guarded itself. The error still reaches the caller: pg
  // fails the statement in flight with it, and every later one with "not queryable".
  guard(client) {
    const emitter = client as Emitter;
    if (guarded.has(emitter)) return;
    if (typeof (client as { totalCount?: unknown }).totalCount === 'number') {
      guarded.add(emitter);
      emitter.on('acquire', (acquired) => guardClient(acquired as Emitter));
    } else guardClient(emitter);
  },
  abandonLostTransactions: false,
};
