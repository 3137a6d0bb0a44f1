import { type Database, executeRows } from '@racefree/transactions';
import { type Column, type SQL, sql } from 'drizzle-orm';
import { mapRow, type TableMeta } from './table-meta.js';

/** `a = $1 and b = $2` over `keys` (property keys); a null value compares with IS NULL. */
export function equalsAll(
  meta: TableMeta,
  values: Record<string, unknown>,
  keys: readonly string[],
): SQL {
  return sql.join(
    keys.map((key) => {
      const column = meta.columns.get(key) as Column;
      const value = values[key];
      return value === null
        ? sql`${sql.identifier(column.name)} is null`
        : sql`${sql.identifier(column.name)} = ${sql.param(value, column)}`;
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
 * for columns left out (what Drizzle's own insert builder would have sent).
 */
export function insertValues(
  meta: TableMeta,
  values: Record<string, unknown>,
): { columns: SQL; values: SQL } {
  const entries: [Column, unknown][] = [];
  for (const [key, column] of meta.columns) {
    if (key in values) entries.push([column, values[key]]);
    else if (column.defaultFn) entries.push([column, column.defaultFn()]);
    else if (!column.default && column.onUpdateFn) entries.push([column, column.onUpdateFn()]);
  }
  return {
    columns: sql.join(
      entries.map(([column]) => sql.identifier(column.name)),
      sql`, `,
    ),
    values: sql.join(
      entries.map(([column, value]) => (value === null ? sql`null` : sql.param(value, column))),
      sql`, `,
    ),
  };
}

/** `a = $1, b = $2` for an UPDATE, plus `$onUpdate` values for columns `set` leaves out. */
export function assignments(meta: TableMeta, set: Record<string, unknown>): SQL {
  const entries: [Column, unknown][] = [];
  for (const [key, column] of meta.columns) {
    if (key in set) entries.push([column, set[key]]);
    else if (column.onUpdateFn) entries.push([column, column.onUpdateFn()]);
  }
  return sql.join(
    entries.map(([column, value]) =>
      value === null
        ? sql`${sql.identifier(column.name)} = null`
        : sql`${sql.identifier(column.name)} = ${sql.param(value, column)}`,
    ),
    sql`, `,
  );
}

/** Runs a statement returning table rows and maps them to the table's keys and JS values. */
export async function queryRows(
  db: Database,
  meta: TableMeta,
  query: SQL,
): Promise<Record<string, unknown>[]> {
  const raw = await executeRows<Record<string, unknown>>(db, query);
  return raw.map((row) => mapRow(meta, row));
}

/** `select <columns> from <table> where <condition> [order] [lock]`, mapped. */
export function selectRows(
  db: Database,
  meta: TableMeta,
  condition: SQL,
  options: {
    lockClause?: string;
    order?: SQL;
    columns?: readonly string[];
    limit?: number;
    prefix?: SQL;
  } = {},
): Promise<Record<string, unknown>[]> {
  return queryRows(
    db,
    meta,
    sql`${options.prefix ?? sql``}select ${columnList(meta, options.columns)} from ${meta.table} where ${condition}${
      options.order ? sql` ${options.order}` : sql``
    }${options.limit ? sql` limit ${sql.raw(String(options.limit))}` : sql``}${sql.raw(options.lockClause ?? '')}`,
  );
}
