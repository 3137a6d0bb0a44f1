import { entityKind, is, type SQL } from 'drizzle-orm';
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

/** The internals of a Drizzle PostgreSQL database this module reads (present since 0.30). */
interface PgInternals {
  dialect?: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session?: {
    prepareQuery(
      query: { sql: string; params: unknown[] },
      fields: undefined,
      name: string | undefined,
      isResponseInArrayMode: boolean,
    ): { execute(): Promise<unknown> };
  };
}

/**
 * Runs `query` on a Drizzle PostgreSQL database. On postgres.js a statement with parameters is
 * sent as a *prepared* statement: Drizzle's `execute` sends it unnamed, and postgres.js then
 * describes every parameterized statement before binding it — two round trips each time, where
 * a prepared one needs one after its first use. racefree's statements are few shapes per table
 * with every value a parameter, so the per-connection statement cache stays small. It is
 * Drizzle's own prepared-query path (its logger and tracing still see every statement), and a
 * client created with `prepare: false` (PgBouncer in transaction mode) keeps it off.
 * Statements without parameters (DDL, transaction control) gain nothing and stay unnamed.
 */
function executePostgres(db: AnyPgDatabase, query: SQL): Promise<unknown> {
  const { dialect, session } = db as unknown as PgInternals;
  const sessionKind = (session?.constructor as { [entityKind]?: string } | undefined)?.[entityKind];
  if (dialect && session && sessionKind === 'PostgresJsSession') {
    const built = dialect.sqlToQuery(query);
    // postgres.js' Drizzle session only tests the name for presence ("prepare this"); it is
    // never sent (postgres.js names statements itself, by their text and parameter types).
    if (built.params.length > 0)
      return session.prepareQuery(built, undefined, 'racefree', false).execute();
  }
  return db.execute(query);
}

/**
 * Runs a raw SQL statement and returns its rows on either driver (postgres.js returns the rows;
 * mysql2 returns `[rows, fields]`).
 */
export async function executeRows<R = Record<string, unknown>>(
  db: Database,
  query: SQL,
): Promise<R[]> {
  if (familyOf(db) === 'postgres') {
    return Array.from((await executePostgres(db as AnyPgDatabase, query)) as Iterable<R>);
  }
  const result = (await (db as AnyMySqlDatabase).execute(query)) as unknown as [unknown, unknown];
  return Array.isArray(result[0]) ? (result[0] as R[]) : [];
}

/** Runs a raw statement that returns no rows (DDL, SET, UPDATE) and returns the affected row count. */
export async function executeStatement(db: Database, query: SQL): Promise<number> {
  if (familyOf(db) === 'postgres') {
    const result = (await executePostgres(db as AnyPgDatabase, query)) as { count?: number };
    return result.count ?? 0;
  }
  const result = (await (db as AnyMySqlDatabase).execute(query)) as unknown as [
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
