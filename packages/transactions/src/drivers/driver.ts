import { entityKind } from 'drizzle-orm';

/** Which protocol family a database speaks. */
export type Family = 'postgres' | 'mysql';

/** The drivers racefree supports, by the name their users know them by. */
export type DriverName = 'postgres.js' | 'node-postgres' | 'mysql2';

/** A statement's answer, read alike whatever the driver answered with. */
export interface Answer {
  /** The rows, as plain objects keyed by column name (driver values: no Drizzle mapping). */
  rows: Record<string, unknown>[];
  /** Rows the statement wrote (INSERT, UPDATE, DELETE; matched rows on mysql2), or returned. */
  rowCount: number;
  /** The first AUTO_INCREMENT id an INSERT generated (mysql2); `undefined` elsewhere. */
  insertId: number | undefined;
  /**
   * Every result set, in order: `[rows]` for an ordinary statement (`[]` for a write on mysql2),
   * and on MariaDB one per SELECT a compound statement (`BEGIN NOT ATOMIC … END`) ran.
   */
  sets: Record<string, unknown>[][];
}

/**
 * A Drizzle query builder (select, insert, update, delete) as racefree runs it: awaitable,
 * and on PostgreSQL preparable with `.prepare(name)` — Drizzle's documented prepared
 * statements.
 */
export interface QueryBuilder<T> extends PromiseLike<T> {
  prepare?(name: string): { execute(): Promise<T> };
}

/**
 * How racefree talks to one driver, through documented calls only: Drizzle's `db.execute`,
 * its query builders and `.prepare()`, `db.transaction`, and `db.$client`. Everything that
 * differs between drivers — the shape of an answer, whether a builder is worth preparing,
 * whether the database holds one connection or a pool — is said here, once per driver.
 */
export interface Driver {
  readonly name: DriverName;
  readonly family: Family;
  /** Drizzle's class name (`entityKind`) of this driver's databases. */
  readonly databaseClass: string;
  /** Drizzle's class name (`entityKind`) of this driver's transactions (and savepoints). */
  readonly transactionClass: string;
  /** Reads what `db.execute(sql)` resolved with. */
  answer(result: unknown): Answer;
  /** Runs a query builder: prepared where that saves a round trip. */
  run<T>(query: QueryBuilder<T>): Promise<T>;
  /**
   * Drizzle's prepared query of a builder (`.prepare()`), to run many times with placeholder
   * values: named where the name is only the driver's signal to prepare, never a server-side
   * name that would have to be unique per text and per connection.
   */
  prepare<P>(query: { prepare(name?: string): P }): P;
  /**
   * True when `client` (`db.$client`) is one connection, not a pool: transactions on it must
   * take turns, since two open at once would share — and mix — one connection.
   */
  holdsOneConnection(client: unknown): boolean;
  /**
   * Makes `client` (`db.$client`) safe to run transactions on, once per client: what the
   * driver needs so that a connection dying under a transaction fails that transaction's
   * statements instead of the process.
   */
  guard(client: unknown): void;
  /**
   * True when a transaction whose connection was lost must be abandoned rather than handed
   * back to the driver, which would write ROLLBACK to the dead socket and crash the process
   * (postgres.js 3.4: porsager/postgres#1208). `atomic` then leaves the driver's callback
   * unsettled once the driver has rejected the transaction by itself.
   */
  readonly abandonLostTransactions: boolean;
}

/** Drizzle's class name (`entityKind`) of a database or transaction object. */
export function classOf(db: unknown): string | undefined {
  if (db === null || typeof db !== 'object') return undefined;
  const kind = (db.constructor as { [entityKind]?: unknown } | undefined)?.[entityKind];
  return typeof kind === 'string' ? kind : undefined;
}
