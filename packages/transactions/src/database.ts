import { DrizzleQueryError, entityKind, is, type SQL } from 'drizzle-orm';
import { MySqlDatabase, MySqlTransaction } from 'drizzle-orm/mysql-core';
import { PgDatabase, PgTransaction } from 'drizzle-orm/pg-core';
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

/** Refuses anything that is not a Drizzle database, before any SQL is sent. */
export function familyOf(db: unknown, operation = 'racefree'): Family {
  if (is(db, PgDatabase)) return 'postgres';
  if (is(db, MySqlDatabase)) return 'mysql';
  throw new InvalidArgumentError(
    `${operation} needs a Drizzle database (drizzle-orm/postgres-js or drizzle-orm/mysql2) or one of its transactions; got ${describe(db)}.`,
  );
}

/** True for a Drizzle transaction object (as opposed to a root database). */
export function isDrizzleTransaction(db: Database): boolean {
  return is(db, PgTransaction) || is(db, MySqlTransaction);
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

/** What racefree reads of a Drizzle database or transaction (public since 0.30; not in its types). */
interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): RenderedQuery };
  session: {
    prepareQuery(
      query: RenderedQuery,
      fields: undefined,
      name?: string,
      isResponseInArrayMode?: boolean,
    ): { execute(): Promise<unknown> };
    /** postgres.js session: its client (a transaction's or savepoint's own scoped client). */
    client?: {
      unsafe(query: string, params: unknown[], options: { prepare: boolean }): Promise<unknown>;
    };
    logger?: { logQuery(query: string, params: unknown[]): void };
  };
}

const families = new WeakMap<object, Family>();

function familyOfCached(db: Database): Family {
  let family = families.get(db);
  if (family === undefined) {
    family = familyOf(db);
    families.set(db, family);
  }
  return family;
}

/** Renders a Drizzle `sql` template to text and parameters for `db`'s dialect ($1 or ?). */
export function renderQuery(db: Database, query: SQL): RenderedQuery {
  familyOfCached(db);
  return (db as unknown as DrizzleInternals).dialect.sqlToQuery(query);
}

function rendered(db: Database, query: Query): RenderedQuery {
  return typeof (query as RenderedQuery).sql === 'string'
    ? (query as RenderedQuery)
    : renderQuery(db, query as SQL);
}

/**
 * Runs `query` on a Drizzle PostgreSQL database. On postgres.js it goes straight to the
 * session's client — the transaction's own client inside a transaction — with what Drizzle's
 * query path does around it kept: the configured logger sees the statement, and a failure
 * arrives as Drizzle's `DrizzleQueryError` with the driver's error as its `cause`. What it
 * leaves out is per-call overhead (four async layers, a cache lookup racefree's statements
 * never use, and tracing hooks that are no-ops in this Drizzle line), which cost more client
 * CPU than the statement's own driver work (`pnpm bench`).
 *
 * A statement with parameters is sent *prepared*: Drizzle's `execute` sends it unnamed, and
 * postgres.js then describes every parameterized statement before binding it — two round
 * trips each time, where a prepared one needs one after its first use. racefree's statements
 * are few shapes per table with every value a parameter, so the per-connection statement
 * cache stays small; a client created with `prepare: false` (PgBouncer in transaction mode)
 * keeps them unnamed. Statements without parameters (DDL, transaction control) gain nothing
 * and stay unnamed.
 */
async function runPostgres(db: AnyPgDatabase, query: Query): Promise<unknown> {
  const { session } = db as unknown as DrizzleInternals;
  const { sql: text, params } = rendered(db, query);
  const client = sessionKind(session) === 'PostgresJsSession' ? session.client : undefined;
  if (!client)
    return session.prepareQuery({ sql: text, params }, undefined, undefined, false).execute();
  const args = params as unknown[];
  session.logger?.logQuery(text, args);
  try {
    return await client.unsafe(text, args, { prepare: args.length > 0 });
  } catch (error) {
    throw new DrizzleQueryError(text, args, error as Error);
  }
}

/** A mysql2 callback-style connection or pool: what mysql2's promise wrappers delegate to. */
interface Mysql2Core {
  query(
    options: { sql: string; typeCast: typeof drizzleTypeCast },
    params: unknown[],
    done: (error: Error | null, result?: unknown, fields?: unknown) => void,
  ): unknown;
}

/** Drizzle's mysql2 type cast: dates and times come back as strings, for its column mappers. */
function drizzleTypeCast(field: { type: string; string(): string | null }, next: () => unknown) {
  return field.type === 'TIMESTAMP' || field.type === 'DATETIME' || field.type === 'DATE'
    ? field.string()
    : next();
}

/** The callback-style connection (or pool) under a mysql2 promise client, if that is what it is. */
function mysqlCore(client: unknown): Mysql2Core | undefined {
  const core =
    (client as { connection?: unknown }).connection ?? (client as { pool?: unknown }).pool;
  return typeof (core as Mysql2Core | undefined)?.query === 'function'
    ? (core as Mysql2Core)
    : undefined;
}

/**
 * Runs `query` on a Drizzle MySQL/MariaDB database. On mysql2 it goes to the callback-style
 * connection (or pool) under the promise client Drizzle holds — a transaction's own
 * connection inside one — with what Drizzle's mysql2 path does kept: the logger sees the
 * statement, dates come back as strings for the column mappers, a failure is a
 * `DrizzleQueryError` with the driver's error as cause. What it skips is the promise wrapper's
 * per-statement `Error.captureStackTrace` (mysql2's `trace` option), whose cost grows with
 * the caller's stack depth: it was a third of a one-statement getOrCreate's client CPU.
 */
function runMysql(db: AnyMySqlDatabase, query: Query): Promise<unknown> {
  const { session } = db as unknown as DrizzleInternals;
  const { sql: text, params } = rendered(db, query);
  const core = sessionKind(session) === 'MySql2Session' ? mysqlCore(session.client) : undefined;
  if (!core) return session.prepareQuery({ sql: text, params }, undefined).execute();
  const args = params as unknown[];
  session.logger?.logQuery(text, args);
  return new Promise((resolve, reject) => {
    core.query({ sql: text, typeCast: drizzleTypeCast }, args, (error, result, fields) => {
      if (error) reject(new DrizzleQueryError(text, args, error));
      else resolve([result, fields]);
    });
  });
}

function sessionKind(session: object): string | undefined {
  return (session.constructor as { [entityKind]?: string } | undefined)?.[entityKind];
}

/**
 * Runs a raw SQL statement and returns its rows on either driver (postgres.js returns the rows;
 * mysql2 returns `[rows, fields]`).
 */
export async function executeRows<R = Record<string, unknown>>(
  db: Database,
  query: Query,
): Promise<R[]> {
  if (familyOfCached(db) === 'postgres') {
    const result = (await runPostgres(db as AnyPgDatabase, query)) as R[];
    return Array.isArray(result) ? result : Array.from(result as Iterable<R>);
  }
  const result = (await runMysql(db as AnyMySqlDatabase, query)) as [unknown, unknown];
  return Array.isArray(result[0]) ? (result[0] as R[]) : [];
}

/** Runs a raw statement that returns no rows (DDL, SET, UPDATE) and returns the affected row count. */
export async function executeStatement(db: Database, query: Query): Promise<number> {
  if (familyOfCached(db) === 'postgres') {
    const result = (await runPostgres(db as AnyPgDatabase, query)) as { count?: number };
    return result.count ?? 0;
  }
  const result = (await runMysql(db as AnyMySqlDatabase, query)) as [
    { affectedRows?: number },
    unknown,
  ];
  return result[0]?.affectedRows ?? 0;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an object of class ${name}` : 'a plain object';
}
