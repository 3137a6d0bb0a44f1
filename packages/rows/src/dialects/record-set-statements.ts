import type { AnyPgDatabase } from '@racefree/transactions';
import { executeRows, runQuery } from '@racefree/transactions/internal';
import { type Column, isSQLWrapper, type SQL, sql } from 'drizzle-orm';
import { getTableConfig, type PgTable } from 'drizzle-orm/pg-core';
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
 * arguments and the table alone:
 * - a JSON, array or composite column the call sets — by Drizzle's declaration or the server's;
 * - a value whose driver form is not a string, a finite number, a bigint, a boolean or null (a
 *   Buffer, NaN), or a string with a NUL or half a surrogate pair;
 * - SQL given as a value, a generated column, rows that set different columns (a column left
 *   out must get its default, not a null);
 * - a table with a domain on any column, or a column whose name Drizzle's `casing` could change
 *   or the server would cut short (over 63 bytes).
 * The server's column types are asked once per root database and table (`serverColumns`).
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
  async insert(
    ctx: RowContext,
    rows: readonly Row[],
    key: UniqueKey,
    plain: (rows: Row[]) => Promise<Row[]>,
  ): Promise<Row[]> {
    const server = key.unenforced ? undefined : await applies(ctx);
    if (!server) return plain([...rows]);
    const full = rows.map((row) => withDefaultFnValues(ctx.meta, row));
    const columns = sharedColumns(ctx.meta, server, full);
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
    // Each column comes back under an alias of ours (c0, c1, …): a property key may be any
    // string, `_` included, which Drizzle's selection proxy keeps for itself.
    const alias = (i: number) => sql.identifier(`c${i}`);
    const returning = sql.join(
      ctx.meta.columnList.map(
        ({ column }, i) => sql`${sql.identifier(column.name)} as ${alias(i)}`,
      ),
      sql`, `,
    );
    // The rows are inserted in the order the function returns them, the array's: key order,
    // which keeps overlapping batches from deadlocking (see RowsDialect.insertMany).
    const insert = sql`insert into ${ctx.meta.table} (${names}) select ${names} from ${unpacked(ctx.meta, json)} on conflict (${target}) do nothing returning ${returning}`;
    // As a data-modifying WITH under Drizzle's select builder (`$with(alias, selection)` takes
    // SQL): the driver adapters run a builder prepared, where `db.execute` is not — postgres.js
    // then describes the statement before binding it, one more round trip. Each column is
    // mapped back through the table's column, as Drizzle maps a table's rows.
    const returned = Object.fromEntries(
      ctx.meta.columnList.map((_, i) => [`c${i}`, sql`${alias(i)}`.as(`c${i}`)]),
    );
    const fields = Object.fromEntries(
      ctx.meta.columnList.map(({ key, column }, i) => [key, sql`${alias(i)}`.mapWith(column)]),
    );
    const db = ctx.db as AnyPgDatabase;
    const inserted = db.$with('racefree_inserted', returned).as(insert);
    return runQuery(ctx.db, db.with(inserted).select(fields).from(inserted)) as Promise<Row[]>;
  },

  /**
   * The rows whose one-column `key` equals that of one of `wanted`: `WHERE key = ANY(ARRAY(SELECT
   * key FROM json_populate_recordset(…)))` — an array the server builds first and looks up in
   * the key's index, as `= ANY($1)` does (an `IN (SELECT …)` lets the planner hash-join a small
   * table instead). `undefined` where this path does not apply, a key of several columns
   * included.
   */
  async select(
    ctx: RowContext,
    wanted: readonly Row[],
    key: UniqueKey,
  ): Promise<Row[] | undefined> {
    if (key.keys.length !== 1) return undefined;
    const [k, column] = [key.keys[0] as string, key.columns[0] as Column];
    const server = await applies(ctx);
    if (!server || !recordable(column, server)) return undefined;
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

/** A column and its property key. */
interface Field {
  key: string;
  column: Column;
}

const named = new WeakMap<TableMeta, boolean>();
/**
 * What the server says about a table (see `serverColumns`): the names of the columns whose
 * value JSON cannot carry. `undefined`: the path does not serve the table at all.
 */
type ServerColumns = { opaque: ReadonlySet<string> } | undefined;
/** Per root database and table: what its server said, asked once. */
const verdicts = new WeakMap<object, WeakMap<object, Promise<ServerColumns>>>();

/**
 * What the server says about the table when the path may serve it: turned on, every column's
 * name known here (see `namesKnown`), and the server's columns fit (see `serverColumns`,
 * asked once per root database and table). `undefined` otherwise.
 */
async function applies(ctx: RowContext): Promise<ServerColumns> {
  if (!enabled || !namesKnown(ctx.meta)) return undefined;
  let tables = verdicts.get(ctx.root);
  if (!tables) verdicts.set(ctx.root, (tables = new WeakMap()));
  const known = tables;
  let verdict = known.get(ctx.meta.table);
  if (!verdict) {
    verdict = serverColumns(ctx);
    known.set(ctx.meta.table, verdict);
    // A failed question is asked again next time (the call itself fails with its error).
    verdict.catch(() => known.delete(ctx.meta.table));
  }
  return verdict;
}

/**
 * True when every column's name on the server is known here — JSON keys and the statement name
 * columns by it. A column declared without a name gets one from Drizzle's `casing` at render
 * time; only a name that no casing changes (small letters and digits) is known. A name longer
 * than the server's 63 bytes is cut short in the statement but not in the JSON.
 */
function namesKnown(meta: TableMeta): boolean {
  let known = named.get(meta);
  if (known === undefined) {
    known = meta.columnList.every(
      ({ column }) =>
        (!column.keyAsName || /^[a-z][a-z0-9]*$/.test(column.name)) &&
        Buffer.byteLength(column.name) <= 63,
    );
    named.set(meta, known);
  }
  return known;
}

/**
 * Asks the server for the table's column types. The row type is built whole from the JSON, so
 * a domain on any column leaves the table to the plain path (one that refuses a null fails on
 * a column the call does not set). A column of any type but a plain base type or an enum — JSON,
 * an array, a composite, a range — is `opaque`: the server reads its JSON value as JSON,
 * whatever Drizzle declares, so a call that sets it takes the plain path.
 */
async function serverColumns(ctx: RowContext): Promise<ServerColumns> {
  const { name, schema } = getTableConfig(ctx.meta.table as PgTable);
  const quoted = (part: string) => `"${part.replaceAll('"', '""')}"`;
  const qualified = schema ? `${quoted(schema)}.${quoted(name)}` : quoted(name);
  const columns = await executeRows<{ name: string; domain: boolean; plain: boolean }>(
    ctx.db,
    sql`select a.attname as name, t.typtype = 'd' as domain,
        t.typtype in ('b', 'e') and t.typcategory <> 'A' and t.typname not in ('json', 'jsonb') as plain
      from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
      where a.attrelid = to_regclass(${qualified}) and a.attnum > 0 and not a.attisdropped`,
  );
  if (columns.length === 0 || columns.some((column) => column.domain)) return undefined;
  return { opaque: new Set(columns.filter((c) => !c.plain).map((c) => String(c.name))) };
}

/**
 * The columns every row sets (a value other than `undefined`), when all rows set the same ones
 * and JSON can reach each of them: not a JSON or array column, whose value the server would read
 * as JSON. `undefined` otherwise.
 */
function sharedColumns(
  meta: TableMeta,
  server: NonNullable<ServerColumns>,
  rows: readonly Row[],
): Field[] | undefined {
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
    // A generated column, which Drizzle's insert leaves out or overrides: the plain path's.
    const generated = column?.generated !== undefined || column?.generatedIdentity !== undefined;
    if (!column || !recordable(column, server) || generated) return undefined;
    columns.push({ key, column });
  }
  return columns;
}

/**
 * True unless the server would read the column's value in JSON as JSON: a JSON or array column,
 * by Drizzle's declaration or by the server's (see `serverColumns`).
 */
function recordable(column: Column, server: NonNullable<ServerColumns>): boolean {
  return (
    column.dataType !== 'json' &&
    column.dataType !== 'array' &&
    !/json|\]$/i.test(column.getSQLType()) &&
    !server.opaque.has(column.name)
  );
}

/**
 * `rows` as a JSON array of objects keyed by column name, each value in its driver form; or
 * `undefined` when a value has no exact JSON form (see `recordSetStatements`).
 */
function recordSet(rows: readonly Row[], columns: readonly Field[]): string | undefined {
  const records: Record<string, unknown>[] = [];
  for (const row of rows) {
    // No prototype: a column named `__proto__` is a key like any other.
    const record: Record<string, unknown> = Object.create(null);
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

/**
 * True for what JSON carries exactly: a finite number, a boolean, null, and a string the server
 * reads back as it is — none with a NUL (which PostgreSQL text cannot hold) or half a surrogate
 * pair (which the drivers send as U+FFFD, and PostgreSQL's JSON refuses).
 */
function exact(value: unknown): boolean {
  if (typeof value === 'string') return !/\0|[\ud800-\udfff]/u.test(value);
  return (
    value === null ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}
