import { InvalidArgumentError } from '../errors.js';
import type { Driver } from './driver.js';
import { sessionOf } from './drizzle-session.js';

type Done = (error: Error | null, result?: unknown, fields?: unknown) => void;

/** A mysql2 query command (`Commands.Query`), as its connection's `createQuery` builds it. */
interface Mysql2Command {
  _queryOptions?: Record<string, unknown>;
}

/** A mysql2 callback-style connection or pool: what mysql2's promise wrappers delegate to. */
interface Mysql2Core {
  config?: object;
  query(
    options: { sql: string; typeCast: typeof drizzleTypeCast },
    params: unknown[],
    done: Done,
  ): unknown;
  query(command: Mysql2Command): unknown;
}

type CreateQuery = (sql: string, values: unknown[], done: Done, config: object) => Mysql2Command;

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

// mysql2 builds a query given as an options object (the only way to pass a per-query type
// cast) by spreading it into a new object: ~3.5 µs per statement on Node 20, where the plain
// (text, values) form takes 0.1 µs. A connection (not a pool) also accepts a command already
// built: racefree builds it through the connection class's own `createQuery` in the plain
// form and adds the type cast to its options. Checked once per connection class; anything
// that does not look like that keeps the options-object form.
const commandBuilders = new WeakMap<object, CreateQuery | null>();

function commandBuilder(core: Mysql2Core): CreateQuery | undefined {
  const type = core.constructor;
  let builder = commandBuilders.get(type);
  if (builder === undefined) {
    const create = (type as { createQuery?: unknown }).createQuery;
    builder = null;
    if (typeof create === 'function' && core.config) {
      const probe = (create as CreateQuery).call(type, 'select 1', [], () => {}, {});
      if (probe?._queryOptions?.sql === 'select 1') builder = create.bind(type) as CreateQuery;
    }
    commandBuilders.set(type, builder);
  }
  return builder ?? undefined;
}

/**
 * Runs a rendered statement on a Drizzle MySQL/MariaDB database. On mysql2 it goes to the
 * callback-style connection (or pool) under the promise client Drizzle holds — a
 * transaction's own connection inside one — with what Drizzle's mysql2 path does kept: the
 * logger sees the statement, dates come back as strings for the column mappers (Drizzle's
 * type cast), a failure reaches callers as a `DrizzleQueryError` with the driver's error as
 * cause (`queryFailure`). What it
 * skips is the promise wrapper's per-statement `Error.captureStackTrace` (mysql2's `trace`
 * option, a third of a one-statement getOrCreate's client CPU) and, on a connection, the
 * options-object spread above. Any other driver goes through Drizzle's own session.
 */
function runMysql(db: object, text: string, args: unknown[]): Promise<unknown> {
  const { session, kind } = sessionOf(db);
  const core = kind === 'MySql2Session' ? mysqlCore(session.client) : undefined;
  if (!core) return session.prepareQuery({ sql: text, params: args }, undefined).execute();
  session.logger?.logQuery(text, args);
  return new Promise((resolve, reject) => {
    const done: Done = (error, result, fields) => {
      if (error) reject(error);
      else resolve([result, fields]);
    };
    const build = commandBuilder(core);
    if (build && core.config) {
      const command = build(text, args, done, core.config);
      (command._queryOptions as Record<string, unknown>).typeCast = drizzleTypeCast;
      core.query(command);
    } else {
      core.query({ sql: text, typeCast: drizzleTypeCast }, args, done);
    }
  });
}

/** What mysql2 reports for a write. */
interface Mysql2Header {
  affectedRows?: number;
  insertId?: number | string;
}

/**
 * The first element of mysql2's `[rows or header, fields]`. Another driver behind Drizzle's
 * MySQL session (PlanetScale's, TiDB's) answers in its own shape, which racefree does not
 * read: a clear error instead of a silent zero.
 */
function first(answer: unknown): unknown {
  if (!Array.isArray(answer))
    throw new InvalidArgumentError(
      'racefree reads mysql2 answers ([rows or header, fields]); this MySQL driver answered with another shape.',
    );
  return answer[0];
}

/**
 * mysql2: `[rows, fields]` for a read, `[header, fields]` for a write, the header carrying
 * `affectedRows` and the first AUTO_INCREMENT id the INSERT generated — read from the
 * INSERT's own answer, never from a second statement another insert could slip before.
 */
export const mysqlDriver: Driver = {
  run: runMysql,
  rows: (answer) => {
    const rows = first(answer);
    return Array.isArray(rows) ? rows : [];
  },
  affectedRows: (answer) => (first(answer) as Mysql2Header | undefined)?.affectedRows ?? 0,
  insertId: (answer) => {
    // 0 when the table has no AUTO_INCREMENT column (a string with mysql2's bigNumberStrings).
    const id = Number((first(answer) as Mysql2Header | undefined)?.insertId ?? 0);
    return id > 0 ? id : undefined;
  },
};
