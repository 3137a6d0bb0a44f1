import { is, type SQL } from 'drizzle-orm';
import { MySqlDatabase, MySqlTransaction } from 'drizzle-orm/mysql-core';
import { PgDatabase, PgTransaction } from 'drizzle-orm/pg-core';
import { type DrizzleInternals, queryFailure } from './drivers/drizzle-session.js';
import type { Driver } from './drivers/driver.js';
import { mysqlDriver } from './drivers/mysql-driver.js';
import { postgresDriver } from './drivers/postgres-driver.js';
import { InvalidArgumentError } from './errors.js';

/** A Drizzle PostgreSQL database or transaction (postgres.js is the driver racefree is tested on). */
export type AnyPgDatabase = PgDatabase<any, any, any>;
/** A Drizzle MySQL/MariaDB database or transaction (mysql2). */
export type AnyMySqlDatabase = MySqlDatabase<any, any, any, any>;
/** Any database racefree works with: a Drizzle root database or one of its transactions. */
export type Database = AnyPgDatabase | AnyMySqlDatabase;

/** The transaction type Drizzle hands to `db.transaction(fn)` for a database of type `D`. */
export type TransactionOf<D extends Database> = D extends {
  transaction(fn: (tx: infer T) => Promise<unknown>, ...rest: never[]): unknown;
}
  ? T
  : never;

/** Which protocol family a database speaks. */
export type Family = 'postgres' | 'mysql';

/** What a Drizzle database object is, by its class: found once per object, then remembered. */
interface Kind {
  family: Family;
  transaction: boolean;
}

// Drizzle's `is()` walks the class chain on every call, and every racefree call asks several
// times (it was a tenth of a one-statement getOrCreate's client CPU). An object's class never
// changes, so the answer is kept per object, weakly.
const kinds = new WeakMap<object, Kind>();

function kindOf(db: unknown): Kind | undefined {
  if (db === null || typeof db !== 'object') return undefined;
  let kind = kinds.get(db);
  if (kind === undefined) {
    if (is(db, PgDatabase)) kind = { family: 'postgres', transaction: is(db, PgTransaction) };
    else if (is(db, MySqlDatabase))
      kind = { family: 'mysql', transaction: is(db, MySqlTransaction) };
    else return undefined;
    kinds.set(db, kind);
  }
  return kind;
}

/** Refuses anything that is not a Drizzle database, before any SQL is sent. */
export function familyOf(db: unknown, operation = 'racefree'): Family {
  const kind = kindOf(db);
  if (kind) return kind.family;
  throw new InvalidArgumentError(
    `${operation} needs a Drizzle database (drizzle-orm/postgres-js or drizzle-orm/mysql2) or one of its transactions; got ${describe(db)}.`,
  );
}

/** True for a Drizzle transaction object (as opposed to a root database). */
export function isDrizzleTransaction(db: Database): boolean {
  return kindOf(db)?.transaction ?? false;
}

/**
 * A statement already rendered to its text and driver parameters (what Drizzle's `sqlToQuery`
 * returns). Callers that run one statement shape many times render its text once and pass
 * fresh parameters each time: Drizzle's SQL builder then runs once per shape, not per call.
 */
export interface RenderedQuery {
  readonly sql: string;
  readonly params: readonly unknown[];
}

/** A statement to run: a Drizzle `sql` template, or one already rendered for this database. */
export type Query = SQL | RenderedQuery;

/** Renders a Drizzle `sql` template to text and parameters for `db`'s dialect ($1 or ?). */
export function renderQuery(db: Database, query: SQL): RenderedQuery {
  familyOf(db);
  return (db as unknown as DrizzleInternals).dialect.sqlToQuery(query);
}

function rendered(db: Database, query: Query): RenderedQuery {
  return typeof (query as RenderedQuery).sql === 'string'
    ? (query as RenderedQuery)
    : renderQuery(db, query as SQL);
}

/** The driver module for `db`'s family: how to send a statement and read the answer. */
function driverOf(db: Database): Driver {
  return familyOf(db) === 'postgres' ? postgresDriver : mysqlDriver;
}

/**
 * Renders `query` if needed, runs it on `db`'s driver and hands the answer to `onAnswer`, or
 * the failure (as `DrizzleQueryError`, see `queryFailure`) to `onFailure` — both in one
 * `.then`, the only promise racefree adds to the driver's own. Not async: a query it cannot
 * render or send rejects, as from an async function.
 */
function send<M>(
  db: Database,
  query: Query,
  onAnswer: (answer: unknown, driver: Driver) => M | PromiseLike<M>,
  onFailure?: (error: Error) => M | PromiseLike<M>,
): Promise<M> {
  let driver: Driver;
  let text: string;
  let args: unknown[];
  let answer: Promise<unknown>;
  try {
    driver = driverOf(db);
    ({ sql: text, params: args } = rendered(db, query) as { sql: string; params: unknown[] });
    answer = driver.run(db, text, args);
  } catch (error) {
    return Promise.reject(error);
  }
  return answer.then(
    (value) => onAnswer(value, driver),
    (error: unknown) => {
      const failure = queryFailure(text, args, error);
      if (onFailure) return onFailure(failure);
      throw failure;
    },
  );
}

/**
 * Runs a raw SQL statement and returns its rows on either driver (postgres.js returns the rows;
 * mysql2 returns `[rows, fields]`). With `map`, resolves with `map(rows)` instead, in the same
 * step: a caller that transforms every answer saves a promise and a microtask turn per
 * statement. With `recover`, a statement the server or driver failed (not one that could not be
 * rendered or sent: that rejects) resolves with
 * `recover(error)` instead of rejecting (the error is a `DrizzleQueryError`, as Drizzle throws
 * it), again in the same step: how a helper retries outside a transaction at no cost to the
 * calls that succeed. Errors `map` throws are not passed to `recover`.
 */
export function executeRows<R = Record<string, unknown>, M = R[]>(
  db: Database,
  query: Query,
  map?: (rows: R[]) => M | PromiseLike<M>,
  recover?: (error: Error) => M | PromiseLike<M>,
): Promise<M> {
  return send(
    db,
    query,
    map
      ? (answer, driver) => map(driver.rows(answer) as R[])
      : (answer, driver) => driver.rows(answer) as M,
    recover,
  );
}

/** Runs a raw statement that returns no rows (DDL, SET, UPDATE) and returns the affected row count. */
export function executeStatement(db: Database, query: Query): Promise<number> {
  return send(db, query, (answer, driver) => driver.affectedRows(answer));
}

/** What `executeInsert` reports: rows written and, on MySQL/MariaDB, the first generated id. */
export interface InsertOutcome {
  count: number;
  /**
   * The first AUTO_INCREMENT id the INSERT generated (mysql2's `insertId`, as a number: ids
   * past 2^53 lose precision, as they do in mysql2 itself without `supportBigNumbers`);
   * PostgreSQL: none.
   */
  insertId: number | undefined;
}

/**
 * Runs an INSERT and returns how many rows it wrote and, on MySQL/MariaDB, the first
 * auto-increment id it generated — MySQL has no `RETURNING`, and this reads the id from the
 * INSERT's own answer, never from a second statement another insert could slip before. On
 * PostgreSQL use `RETURNING` with `executeRows`; `insertId` is `undefined` there.
 */
export function executeInsert(db: Database, query: Query): Promise<InsertOutcome> {
  return send(db, query, (answer, driver) => ({
    count: driver.affectedRows(answer),
    insertId: driver.insertId(answer),
  }));
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an object of class ${name}` : 'a plain object';
}
