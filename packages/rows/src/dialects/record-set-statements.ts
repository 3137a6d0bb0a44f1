import type { AnyPgDatabase } from '@racefree/transactions';
import { runQuery } from '@racefree/transactions/internal';
import { type Column, isSQLWrapper, type SQL, sql } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import { withDefaultFnValues } from '../statement-cache.js';
import type { TableMeta, UniqueKey } from '../table-meta.js';
import { builderSelect } from './builder-select.js';
import type { Row } from './rows-dialect.js';

/**
 * The faster path of `getOrCreateMany` on PostgreSQL (docs/design.md, "Record sets for
 * getOrCreateMany"): a batch's rows travel as one JSON parameter, which the server unpacks into
 * the table's own row type (`json_populate_recordset(null::table, $1)`), instead of one parameter
 * per value. The statement's text no longer grows with the batch, and Drizzle no longer builds
 * and renders a parameter per value: for 100 rows that is most of the call's client CPU
 * (`pnpm bench`).
 *
 * Each value still reaches its column through the column type's own input function, as a bound
 * parameter does — but with the column's type modifier, which only an interval's field
 * restriction turns into another reading (refused below). What JSON cannot carry exactly takes
 * the plain path. The call's arguments decide most of it:
 * - a JSON or array column the call sets, by Drizzle's declaration;
 * - a value whose driver form is not a string, a finite number, a bigint, a boolean or null (a
 *   Buffer, NaN), or a string with a NUL or half a surrogate pair;
 * - SQL given as a value, a generated column, rows that set different columns (a column left
 *   out must get its default, not a null);
 * - a column whose name Drizzle's `casing` could change or the server would cut short (over 63
 *   bytes), and a table named like a built-in type (`path`) with no schema in Drizzle.
 * The server's column types decide the rest, and the insert asks them itself, every time: it
 * unpacks nothing when the table has a domain on any column, or when a column the call sets is
 * on the server (whatever Drizzle declares) anything but a base type or an enum, or JSON, or an
 * interval (see `takesRecordSets`), and says so; the batch then takes the plain path, and so
 * does the rest of the call. Nothing is kept between calls. `useRecordSets(false)` turns the
 * path off, for the same-run A/B and the test that holds it to the plain path.
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
    if (key.unenforced || !applies(ctx)) return plain([...rows]);
    const full = rows.map((row) => withDefaultFnValues(ctx.meta, row));
    const columns = sharedColumns(ctx.meta, full);
    const json = columns && recordSet(full, columns);
    if (!columns || json === undefined) return plain(full);
    const db = ctx.db as AnyPgDatabase;
    const check = db
      .$with('racefree_check', { safe: sql<boolean>`safe`.as('safe') })
      .as(takesRecordSets(ctx, columns));
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
    // Unpacked only when the check says the table takes it: a NOT NULL domain would fail the
    // row type's construction on a column the call does not even set. The rows are inserted in
    // the order the function returns them, the array's: key order, which keeps overlapping
    // batches from deadlocking (see RowsDialect.insertMany).
    const source = sql`json_populate_recordset(${rowOf(ctx.meta)}, case when (select safe from ${check}) then ${json}::json end)`;
    const insert = sql`insert into ${ctx.meta.table} (${names}) select ${names} from ${source} on conflict (${target}) do nothing returning ${returning}`;
    // As a data-modifying WITH under Drizzle's select builder (`$with(alias, selection)` takes
    // SQL): the driver adapters run a builder prepared, where `db.execute` is not — postgres.js
    // then describes the statement before binding it, one more round trip. The check's row
    // joined to the rows written: it says whether the insert ran, even when it wrote nothing.
    const returned = Object.fromEntries(
      ctx.meta.columnList.map((_, i) => [`c${i}`, sql`${alias(i)}`.as(`c${i}`)]),
    );
    // As text: an application may have its driver hand booleans over as the server's letters.
    const fields: Record<string, SQL> = { safe: sql<string>`safe::text` };
    ctx.meta.columnList.forEach(({ column }, i) => {
      fields[`c${i}`] = sql`${alias(i)}`.mapWith(column);
    });
    const inserted = db.$with('racefree_inserted', returned).as(insert);
    const answer = (await runQuery(
      ctx.db,
      db.with(check, inserted).select(fields).from(check).leftJoin(inserted, sql`true`),
    )) as Array<Record<string, unknown>>;
    ctx.answered.recordSets = answer[0]?.safe === 'true';
    if (!ctx.answered.recordSets) return plain(full);
    // No row written: the join's one row, of nulls. A written row has its key.
    const keyAt = `c${ctx.meta.columnList.findIndex(({ column }) => column === key.columns[0])}`;
    return answer
      .filter((row) => row[keyAt] !== null)
      .map((row) =>
        Object.fromEntries(ctx.meta.columnList.map(({ key: k }, i) => [k, row[`c${i}`]])),
      );
  },

  /**
   * The rows whose one-column `key` equals that of one of `wanted`: `WHERE key = ANY(ARRAY(SELECT
   * key FROM json_populate_recordset(…)))` — an array the server builds first and looks up in
   * the key's index, as `= ANY($1)` does (an `IN (SELECT …)` lets the planner hash-join a small
   * table instead). Only once this call's insert has found that the table takes record sets
   * (which it checks for the key column too); `undefined` where this path does not apply, a key
   * of several columns included.
   */
  async select(
    ctx: RowContext,
    wanted: readonly Row[],
    key: UniqueKey,
  ): Promise<Row[] | undefined> {
    if (key.keys.length !== 1 || ctx.answered.recordSets !== true || !applies(ctx))
      return undefined;
    const [k, column] = [key.keys[0] as string, key.columns[0] as Column];
    if (!recordable(column)) return undefined;
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
  return sql`json_populate_recordset(${rowOf(meta)}, ${json}::json)`;
}

/**
 * A null of the table's row type. Not a whole-row reference to the table, which would need
 * SELECT on every column (a role may see only some). `null::name` looks the name up as a type,
 * so `namesKnown` leaves to the plain path a table whose name a built-in type has.
 */
function rowOf(meta: TableMeta): SQL {
  return sql`null::${meta.table}`;
}

/** A column and its property key. */
interface Field {
  key: string;
  column: Column;
}

const named = new WeakMap<TableMeta, boolean>();
/**
 * The names of PostgreSQL's built-in types (PostgreSQL 15's `pg_catalog`, which a type name is
 * looked up in first), besides those that start with `pg_` or `_` (catalogs' row types, array
 * types): `null::path` is the geometric type, not the table `path`, and the statement would not
 * parse. From `select typname from pg_type where typnamespace = 'pg_catalog'::regnamespace and
 * typname !~ '^(pg_|_)'`; a later server's new types are missing until added here.
 */
const BUILT_IN_TYPES = new Set(
  `aclitem any anyarray anycompatible anycompatiblearray anycompatiblemultirange
  anycompatiblenonarray anycompatiblerange anyelement anyenum anymultirange anynonarray anyrange
  bit bool box bpchar bytea char cid cidr circle cstring date datemultirange daterange
  event_trigger fdw_handler float4 float8 gtsvector index_am_handler inet int2 int2vector int4
  int4multirange int4range int8 int8multirange int8range internal interval json jsonb jsonpath
  language_handler line lseg macaddr macaddr8 money name numeric nummultirange numrange oid
  oidvector path point polygon record refcursor regclass regcollation regconfig regdictionary
  regnamespace regoper regoperator regproc regprocedure regrole regtype table_am_handler text
  tid time timestamp timestamptz timetz trigger tsm_handler tsmultirange tsquery tsrange
  tstzmultirange tstzrange tsvector txid_snapshot unknown uuid varbit varchar void xid xid8 xml`.split(
    /\s+/,
  ),
);

/** True when the path may serve the call: turned on, the names known, not refused this call. */
function applies(ctx: RowContext): boolean {
  return enabled && ctx.answered.recordSets !== false && namesKnown(ctx.meta);
}

/**
 * True when every column's name on the server is known here — JSON keys and the statement name
 * columns by it. A column declared without a name gets one from Drizzle's `casing` at render
 * time; only a name that no casing changes (small letters and digits) is known. A name longer
 * than the server's 63 bytes is cut short in the statement but not in the JSON. The table's
 * own name must not be a built-in type's, which `null::name` would find first (`pg_catalog`
 * is searched before any schema), unless Drizzle names its schema.
 */
function namesKnown(meta: TableMeta): boolean {
  let known = named.get(meta);
  if (known === undefined) {
    const { name, schema } = meta;
    known =
      (schema !== undefined || !(BUILT_IN_TYPES.has(name) || /^(pg_|_)/.test(name))) &&
      meta.columnList.every(
        ({ column }) =>
          (!column.keyAsName || /^[a-z][a-z0-9]*$/.test(column.name)) &&
          Buffer.byteLength(column.name) <= 63,
      );
    named.set(meta, known);
  }
  return known;
}

/**
 * A one-row query whose `safe` is true when the server's column types let the table take record
 * sets for `columns`: each of `columns` a plain base type or an enum — not JSON, an array, a
 * composite or a range, whose JSON value the server would read as JSON whatever Drizzle declares,
 * nor an interval, whose field restriction (`interval minute to second`) changes how the row type
 * reads its text where a bound parameter is only rounded — and no domain on any of the table's
 * columns (the row type is built whole, and a domain that refuses a null fails on a column the
 * call does not set). The table is found as the INSERT finds it, as a relation (joined as a row
 * of nulls; `to_regclass`). The types of `columns` are those the statement is planned with
 * (`pg_typeof`), so a column changed after a REPEATABLE READ snapshot is judged by its new type.
 * And `null::table` must be the table's row type: a type of the table's name in a schema earlier
 * in the search path (a domain over another composite) would be found first. The server plans
 * this again on every call where the driver does not prepare statements (node-postgres): keep it
 * small.
 */
function takesRecordSets(ctx: RowContext, columns: readonly Field[]): SQL {
  const { name, schema } = ctx.meta;
  const quoted = ctx.dialect.quoteIdentifier;
  const qualified = schema ? `${quoted(schema)}.${quoted(name)}` : quoted(name);
  const types = sql.join(
    columns.map(({ column }) => sql`pg_typeof(racefree_row.${sql.identifier(column.name)})`),
    sql`, `,
  );
  return sql`select coalesce((select bool_and(t.typtype in ('b', 'e') and t.typcategory <> 'A' and t.typname not in ('json', 'jsonb', 'interval'))
        from pg_catalog.pg_type t where t.oid in (${types})), false)
      and not exists (select from pg_catalog.pg_attribute a
        where a.attrelid = to_regclass(${qualified}) and a.attnum > 0 and not a.attisdropped
          and a.atttypid in (select oid from pg_catalog.pg_type where typtype = 'd'))
      and to_regtype(${qualified}) = (select reltype from pg_catalog.pg_class where oid = to_regclass(${qualified})) as safe
    from (values (1)) as racefree_one left join ${ctx.meta.table} as racefree_row on false`;
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
    // A generated column, which Drizzle's insert leaves out or overrides: the plain path's.
    const generated = column?.generated !== undefined || column?.generatedIdentity !== undefined;
    if (!column || !recordable(column) || generated) return undefined;
    columns.push({ key, column });
  }
  return columns;
}

/**
 * True unless Drizzle declares a JSON or array column, whose value the server would read in
 * JSON as JSON (the server's own declaration is the insert's check, `takesRecordSets`).
 */
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
