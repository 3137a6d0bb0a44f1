import type { AnyPgDatabase } from '@racefree/transactions';
import { runQuery } from '@racefree/transactions/internal';
import { type Column, isSQLWrapper, type SQL, sql } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import { withDefaultFnValues } from '../statement-cache.js';
import type { TableMeta, UniqueKey } from '../table-meta.js';
import { builderSelect } from './builder-select.js';
import type { Row } from './rows-dialect.js';

/**
 * The faster path of `getOrCreateMany` on PostgreSQL (docs/design.md, "Record sets for getOrCreateMany"): a
 * batch's rows travel as one JSON parameter, which the server unpacks into the table's own row
 * type (`json_populate_recordset(null::table, $1)`), instead of one parameter per value. The
 * statement's text no longer grows with the batch, and Drizzle no longer builds and renders a
 * parameter per value: for 100 rows that is most of the call's client CPU (`pnpm bench`).
 *
 * Each value still reaches its column through the column type's own input function, as a bound
 * parameter does. What JSON cannot carry exactly takes the plain path, decided from the call's
 * arguments alone: a JSON or array column (the server would read the text as JSON), a value
 * whose driver form is not a string, a finite number, a bigint, a boolean or null (a Buffer,
 * NaN), SQL given as a value, rows that set different columns (a missing column must get its
 * default, not a null), and a table with a column whose name Drizzle's `casing` could change.
 * `useRecordSets(false)` turns it off, for the same-run A/B and the test that holds it to the
 * plain path.
 */
export const recordSetStatements = {
  /**
   * `INSERT … SELECT … FROM json_populate_recordset(…) ON CONFLICT (key) DO NOTHING RETURNING`:
   * the rows written, in the order given. Where this path does not apply, `plain(rows)` — given
   * the `$defaultFn` values already computed, if any were (one call per inserted row, whichever
   * path sends it).
   */
  insert(
    ctx: RowContext,
    rows: readonly Row[],
    key: UniqueKey,
    plain: (rows: Row[]) => Promise<Row[]>,
  ): Promise<Row[]> {
    if (!applies(ctx.meta) || key.unenforced) return plain([...rows]);
    const full = rows.map((row) => withDefaultFnValues(ctx.meta, row));
    const columns = sharedColumns(ctx.meta, full);
    const json = columns && recordSet(full, columns);
    if (!columns || json === undefined) return plain(full);
    const names = sql.join(
      columns.map(({ column }) => sql.identifier(column.name)),
      sql`, `,
    );
    const target = sql.join(
      key.columns.map((column) => sql.identifier(column.name)),
      sql`, `,
    );
    // The rows are inserted in the order the function returns them, the array's: key order,
    // which keeps overlapping batches from deadlocking (see RowsDialect.insertMany).
    const insert = sql`insert into ${ctx.meta.table} (${names}) select ${names} from ${unpacked(ctx.meta, json)} on conflict (${target}) do nothing returning ${selected(ctx.meta)}`;
    // As a data-modifying WITH under Drizzle's select builder (`$with(alias, selection)` takes
    // SQL): the driver adapters run a builder prepared, where `db.execute` is not — postgres.js
    // then describes the statement before binding it, one more round trip. The selection maps
    // each column back as Drizzle maps a table's rows.
    const fields = Object.fromEntries(
      ctx.meta.columnList.map(({ key, column }) => [
        key,
        sql`${sql.identifier(key)}`.mapWith(column).as(key),
      ]),
    );
    const db = ctx.db as AnyPgDatabase;
    const inserted = db.$with('racefree_inserted', fields).as(insert);
    return runQuery(ctx.db, db.with(inserted).select().from(inserted)) as Promise<Row[]>;
  },

  /**
   * The rows whose one-column `key` equals that of one of `wanted`: `WHERE key = ANY(ARRAY(SELECT
   * key FROM json_populate_recordset(…)))` — an array the server builds first and looks up in
   * the key's index, as `= ANY($1)` does (an `IN (SELECT …)` lets the planner hash-join a small
   * table instead). `undefined` where this path does not apply, a key of several columns
   * included.
   */
  select(ctx: RowContext, wanted: readonly Row[], key: UniqueKey): Promise<Row[]> | undefined {
    const [k, column] = [key.keys[0] as string, key.columns[0] as Column];
    if (!applies(ctx.meta) || key.keys.length !== 1 || !recordable(column)) return undefined;
    const json = recordSet(wanted, [{ key: k, column }]);
    if (json === undefined) return undefined;
    // Through Drizzle's select builder, which the driver adapters run prepared (one round trip
    // on postgres.js, which describes an unprepared statement before binding it).
    const where = sql`${column} = any(array(select ${sql.identifier(column.name)} from ${unpacked(ctx.meta, json)}))`;
    return builderSelect(ctx, { where }, undefined);
  },
};

let enabled = true;

/** Turns the faster path on or off (default on): the bench's A/B and the test against the plain path. */
export function useRecordSets(on: boolean): void {
  enabled = on;
}

/** The rows as the table's row type, from the one JSON parameter. */
function unpacked(meta: TableMeta, json: string): SQL {
  return sql`json_populate_recordset(null::${meta.table}, ${json}::json)`;
}

/** Every column, selected as its property key: the rows come back as Drizzle maps them. */
function selected(meta: TableMeta): SQL {
  return sql.join(
    meta.columnList.map(
      ({ key, column }) => sql`${sql.identifier(column.name)} as ${sql.identifier(key)}`,
    ),
    sql`, `,
  );
}

/** A column and its property key. */
interface Field {
  key: string;
  column: Column;
}

const named = new WeakMap<TableMeta, boolean>();

/**
 * True when the path may serve this table at all: turned on, and every column's name on the
 * server known here — JSON keys and the statement name columns by it. A column declared without
 * a name gets one from Drizzle's `casing` at render time; only a name that no casing changes
 * (small letters and digits) is known.
 */
function applies(meta: TableMeta): boolean {
  if (!enabled) return false;
  let known = named.get(meta);
  if (known === undefined) {
    known = meta.columnList.every(
      ({ column }) => !column.keyAsName || /^[a-z][a-z0-9]*$/.test(column.name),
    );
    named.set(meta, known);
  }
  return known;
}

/**
 * The columns every row sets (a value other than `undefined`), when all rows set the same ones
 * and JSON can reach each of them: not a JSON or array column, whose value the server would read
 * as JSON. `undefined` otherwise.
 */
function sharedColumns(meta: TableMeta, rows: readonly Row[]): Field[] | undefined {
  const first = rows[0];
  if (!first) return undefined;
  const keys = Object.keys(first).filter((k) => first[k] !== undefined);
  for (const row of rows) {
    let set = 0;
    for (const k in row) if (row[k] !== undefined) set += 1;
    if (set !== keys.length || keys.some((k) => row[k] === undefined)) return undefined;
  }
  const columns: Field[] = [];
  for (const key of keys) {
    const column = meta.columns.get(key);
    if (!column || !recordable(column)) return undefined;
    columns.push({ key, column });
  }
  return columns;
}

/** True unless the server would read the column's value in JSON as JSON: a JSON or array column. */
function recordable(column: Column): boolean {
  return (
    column.dataType !== 'json' &&
    column.dataType !== 'array' &&
    !/json|\]$/i.test(column.getSQLType())
  );
}

/**
 * `rows` as a JSON array of objects keyed by column name, each value in its driver form; or
 * `undefined` when a value has no exact JSON form (see `recordSetStatements`).
 */
function recordSet(rows: readonly Row[], columns: readonly Field[]): string | undefined {
  const records: Record<string, unknown>[] = [];
  for (const row of rows) {
    const record: Record<string, unknown> = {};
    for (const { key, column } of columns) {
      const value = row[key];
      if (isSQLWrapper(value)) return undefined;
      let driver = value === null || value === undefined ? null : column.mapToDriverValue(value);
      // A bigint column hands the driver a bigint, which it sends as its digits: so does this.
      if (typeof driver === 'bigint') driver = driver.toString();
      if (!exact(driver)) return undefined;
      record[column.name] = driver;
    }
    records.push(record);
  }
  return JSON.stringify(records);
}

/** True for what JSON carries exactly: a string, a finite number, a boolean, null. */
function exact(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
