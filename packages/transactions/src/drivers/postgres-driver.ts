import type { Driver } from './driver.js';
import { sessionOf } from './drizzle-session.js';

interface PostgresJsClient {
  unsafe(query: string, params: unknown[], options: { prepare: boolean }): Promise<unknown>;
}

/**
 * Runs a rendered statement on a Drizzle PostgreSQL database. On postgres.js it goes straight
 * to the session's client — the transaction's own client inside a transaction — with what
 * Drizzle's query path does around it kept: the configured logger sees the statement, and a
 * failure reaches callers as Drizzle's `DrizzleQueryError` with the driver's error as its
 * `cause` (`queryFailure`, which `database.ts` applies where it reads the answer).
 * What it leaves out is per-call overhead (four async layers, a cache lookup racefree's
 * statements never use, and tracing hooks that are no-ops in this Drizzle line), which cost
 * more client CPU than the statement's own driver work (`pnpm bench`). Any other driver goes
 * through Drizzle's own session.
 *
 * A statement with parameters is sent *prepared*: Drizzle's `execute` sends it unnamed, and
 * postgres.js then describes every parameterized statement before binding it — two round
 * trips each time, where a prepared one needs one after its first use. racefree's statements
 * are few shapes per table with every value a parameter, so the per-connection statement
 * cache stays small; a client created with `prepare: false` (PgBouncer in transaction mode)
 * keeps them unnamed. Statements without parameters (DDL, transaction control) gain nothing
 * and stay unnamed.
 *
 * Not async: it can throw synchronously (a session it cannot read); its one caller, `send` in
 * `database.ts`, catches that. postgres.js' query is lazy: `send`'s `.then` is what sends it.
 */
function runPostgres(db: object, text: string, args: unknown[]): Promise<unknown> {
  const { session, kind } = sessionOf(db);
  if (kind !== 'PostgresJsSession' || !session.client)
    return session.prepareQuery({ sql: text, params: args }, undefined, undefined, false).execute();
  session.logger?.logQuery(text, args);
  // Not an async function awaiting the query: postgres.js' query is a Promise subclass, and
  // awaiting one costs two extra promises and a microtask turn per statement.
  return (session.client as PostgresJsClient).unsafe(text, args, {
    prepare: args.length > 0,
  });
}

/**
 * postgres.js: the answer is the rows themselves (an Array subclass, or an iterable from
 * another driver behind Drizzle's session), with `count` the rows written. No insert ids: use
 * `RETURNING`.
 */
export const postgresDriver: Driver = {
  run: runPostgres,
  rows: (answer) => (Array.isArray(answer) ? answer : Array.from(answer as Iterable<unknown>)),
  affectedRows: (answer) => (answer as { count?: number }).count ?? 0,
  insertId: () => undefined,
};
