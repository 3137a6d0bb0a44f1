import type { Database } from '@racefree/transactions';
import { executeRows } from '@racefree/transactions/internal';
import { type Column, type SQL, sql } from 'drizzle-orm';
import {
  MAX_SHAPES_PER_TABLE,
  type ParamOf,
  paramsFrom,
  renderStatement,
  shapeOf,
} from './render-statement.js';
import { mapRow, type TableMeta } from './table-meta.js';

/**
 * `a = $1 and b = $2` over `keys` (property keys); a null value compares with IS NULL. Values
 * are named `prefix + key` for `param`.
 */
export function equalsAll(
  meta: TableMeta,
  values: Record<string, unknown>,
  keys: readonly string[],
  param: ParamOf = paramsFrom(values),
  prefix = '',
): SQL {
  return sql.join(
    keys.map((key) => {
      const column = meta.columns.get(key) as Column;
      return values[prefix + key] === null
        ? sql`${sql.identifier(column.name)} is null`
        : sql`${sql.identifier(column.name)} = ${param(prefix + key, column)}`;
    }),
    sql` and `,
  );
}

/** `pk in (…)` for single-column keys, `(a = … and b = …) or …` for composite ones. */
export function anyOfKeys(
  meta: TableMeta,
  pkKeys: readonly string[],
  rows: readonly Record<string, unknown>[],
): SQL {
  if (pkKeys.length === 1) {
    const column = meta.columns.get(pkKeys[0] as string) as Column;
    return sql`${sql.identifier(column.name)} in (${sql.join(
      rows.map((row) => sql.param(row[pkKeys[0] as string], column)),
      sql`, `,
    )})`;
  }
  return sql.join(
    rows.map((row) => sql`(${equalsAll(meta, row, pkKeys)})`),
    sql` or `,
  );
}

/** `order by pk1, pk2`: the one global order that makes concurrent lockers unable to deadlock. */
export function orderByKey(meta: TableMeta, keys: readonly string[]): SQL {
  return sql`order by ${sql.join(
    keys.map((key) => sql.identifier((meta.columns.get(key) as Column).name)),
    sql`, `,
  )}`;
}

/**
 * The column list for a select or a RETURNING clause: the table's columns, or the named ones —
 * never `*`. The statements are prepared (see `executeRows`), and a prepared `*` changes its
 * result type when a column is added, which PostgreSQL refuses ("cached plan must not change
 * result type") and which aborts the caller's transaction; a rolling deploy that adds a column
 * must not break the processes still running.
 */
export function columnList(meta: TableMeta, keys?: readonly string[]): SQL {
  return sql.join(
    (keys ?? [...meta.columns.keys()]).map((key) =>
      sql.identifier((meta.columns.get(key) as Column).name),
    ),
    sql`, `,
  );
}

/**
 * The values an INSERT sends: the given ones, plus Drizzle's `$defaultFn` / `$onUpdate` values
 * for columns left out (what Drizzle's own insert builder would have sent), computed per call.
 */
function withGeneratedValues(
  meta: TableMeta,
  values: Record<string, unknown>,
): Record<string, unknown> {
  let full: Record<string, unknown> | undefined;
  for (const { key, column } of meta.columnList) {
    if (Object.hasOwn(values, key)) continue;
    if (column.defaultFn) (full ??= { ...values })[key] = column.defaultFn();
    else if (!column.default && column.onUpdateFn)
      (full ??= { ...values })[key] = column.onUpdateFn();
  }
  return full ?? values;
}

/** `set` plus the `$onUpdate` values of the columns it leaves out, computed per call. */
function withUpdatedValues(meta: TableMeta, set: Record<string, unknown>): Record<string, unknown> {
  let full: Record<string, unknown> | undefined;
  for (const { key, column } of meta.columnList)
    if (!Object.hasOwn(set, key) && column.onUpdateFn)
      (full ??= { ...set })[key] = column.onUpdateFn();
  return full ?? set;
}

/** The keys of `values` that are columns, in the table's column order (the statement's order). */
function columnKeys(meta: TableMeta, values: Record<string, unknown>): string[] {
  const keys: string[] = [];
  for (const { key } of meta.columnList) if (Object.hasOwn(values, key)) keys.push(key);
  return keys;
}

/** Tables up to this many columns number their INSERTs' column sets (a bit per column). */
const NUMBERED_COLUMNS = 30;
const columnSets = new WeakMap<TableMeta, Map<number, { keys: string[]; shape: string }>>();

/** An INSERT's values (generated ones included), their columns and its shape fragment. */
export interface InsertInput {
  values: Record<string, unknown>;
  keys: readonly string[];
  shape: string;
  /**
   * The column set as a number (a bit per column), the same for every INSERT of these columns:
   * a `ShapeCache` variant. `undefined` on tables too wide to number.
   */
  columnSet: number | undefined;
}

/**
 * An INSERT's values, their columns and its shape fragment. The columns and shape of a column
 * set are built once per table (bounded as the statement templates are): every create sends
 * one of a few column sets.
 */
export function insertInput(meta: TableMeta, values: Record<string, unknown>): InsertInput {
  const full = withGeneratedValues(meta, values);
  const list = meta.columnList;
  if (list.length > NUMBERED_COLUMNS) {
    const keys = columnKeys(meta, full);
    return { values: full, keys, shape: keys.join(','), columnSet: undefined };
  }
  let columnSet = 0;
  for (let i = 0; i < list.length; i++)
    if (Object.hasOwn(full, (list[i] as TableMeta['columnList'][number]).key)) columnSet |= 1 << i;
  let sets = columnSets.get(meta);
  if (!sets) columnSets.set(meta, (sets = new Map()));
  let set = sets.get(columnSet);
  if (!set) {
    const keys = columnKeys(meta, full);
    set = { keys, shape: keys.join(',') };
    if (sets.size < MAX_SHAPES_PER_TABLE) sets.set(columnSet, set);
  }
  return { values: full, keys: set.keys, shape: set.shape, columnSet };
}

/** `(a, b)` and `($1, $2)` of an INSERT of `keys` (see `withGeneratedValues`). */
export function insertValues(
  meta: TableMeta,
  keys: readonly string[],
  param: ParamOf,
): { columns: SQL; values: SQL } {
  const columns = keys.map((key) => meta.columns.get(key) as Column);
  return {
    columns: sql.join(
      columns.map((column) => sql.identifier(column.name)),
      sql`, `,
    ),
    values: sql.join(
      columns.map((column, i) => param(keys[i] as string, column)),
      sql`, `,
    ),
  };
}

/**
 * An UPDATE's values — `set` (with `$onUpdate` values) named `s.<key>`, `where` named
 * `w.<key>` — its columns on each side, and its shape fragment.
 */
export function updateInput(
  meta: TableMeta,
  where: Record<string, unknown>,
  set: Record<string, unknown>,
): { values: Record<string, unknown>; setKeys: string[]; whereKeys: string[]; shape: string } {
  const fullSet = withUpdatedValues(meta, set);
  const setKeys = columnKeys(meta, fullSet);
  const whereKeys = Object.keys(where);
  const values: Record<string, unknown> = {};
  for (const key of setKeys) values[`s.${key}`] = fullSet[key];
  for (const key of whereKeys) values[`w.${key}`] = where[key];
  return {
    values,
    setKeys,
    whereKeys,
    shape: `${setKeys.join(',')}|${shapeOf(where, whereKeys)}`,
  };
}

/** `a = $1, b = $2` for an UPDATE of `keys` (see `withUpdatedValues`), named `prefix + key`. */
export function assignments(
  meta: TableMeta,
  keys: readonly string[],
  param: ParamOf,
  prefix = '',
): SQL {
  return sql.join(
    keys.map((key) => {
      const column = meta.columns.get(key) as Column;
      return sql`${sql.identifier(column.name)} = ${param(prefix + key, column)}`;
    }),
    sql`, `,
  );
}

/**
 * Runs a statement returning table rows and maps them to the table's keys and JS values; with
 * `pick`, resolves with `pick(rows)` in the same step (one promise less); with `recover`, a
 * failed statement resolves with `recover(error)`, also in that step (see `executeRows`).
 */
export function queryRows<P = Record<string, unknown>[]>(
  db: Database,
  meta: TableMeta,
  query: SQL,
  pick?: (rows: Record<string, unknown>[]) => P | PromiseLike<P>,
  recover?: (error: Error) => P | PromiseLike<P>,
): Promise<P> {
  return executeRows(db, query).then((raw: Record<string, unknown>[]) => {
    // A loop, not `raw.map`: postgres.js' result is an Array subclass, which `map` walks on
    // its slow generic path (a tenth of a found getOrCreate's own CPU).
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < raw.length; i++) rows.push(mapRow(meta, raw[i] as Record<string, unknown>));
    return pick ? pick(rows) : (rows as P);
  }, recover);
}

/** Options of a select: the lock, order, columns, limit and a statement prefix. */
export interface SelectOptions {
  lockClause?: string | undefined;
  order?: SQL;
  columns?: readonly string[] | undefined;
  limit?: number;
  prefix?: SQL | undefined;
}

/** `select <columns> from <table> where <condition> [order] [limit] [lock]`. */
export function selectSql(meta: TableMeta, condition: SQL, options: SelectOptions = {}): SQL {
  return sql`${options.prefix ?? sql``}select ${columnList(meta, options.columns)} from ${meta.table} where ${condition}${
    options.order ? sql` ${options.order}` : sql``
  }${options.limit ? sql` limit ${sql.raw(String(options.limit))}` : sql``}${sql.raw(options.lockClause ?? '')}`;
}

/**
 * Runs the statement `build` describes for `values`, rendered once per `shape` (see
 * `renderStatement`), and maps the rows it returns (then hands them to `pick`, if given; a
 * failure to `recover`, if given — see `queryRows`).
 */
export function queryStatement<P = Record<string, unknown>[]>(
  db: Database,
  meta: TableMeta,
  shape: string,
  values: Readonly<Record<string, unknown>>,
  build: (param: ParamOf) => SQL,
  pick?: (rows: Record<string, unknown>[]) => P | PromiseLike<P>,
  recover?: (error: Error) => P | PromiseLike<P>,
): Promise<P> {
  return queryRows(db, meta, renderStatement(db, meta, shape, values, build), pick, recover);
}

/** `select <columns> from <table> where <condition> [order] [lock]`, mapped. */
export function selectRows(
  db: Database,
  meta: TableMeta,
  condition: SQL,
  options: SelectOptions = {},
): Promise<Record<string, unknown>[]> {
  return queryRows(db, meta, selectSql(meta, condition, options));
}
