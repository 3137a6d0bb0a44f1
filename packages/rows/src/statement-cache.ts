import type { AnyMySqlDatabase, AnyPgDatabase, Database } from '@racefree/transactions';
import { prepareQuery } from '@racefree/transactions/internal';
import { and, type Column, eq, is, SQL, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { RowContext } from './context.js';
import type { Row } from './dialects/rows-dialect.js';
import type { TableMeta, UniqueKey } from './table-meta.js';

/**
 * The faster path of the row helpers (docs/design.md, "The row helpers"): the two statements
 * nearly every call outside a transaction sends — the read of a row by its unique key, and the
 * insert of a new row — built once per root database and shape as Drizzle prepared queries with
 * placeholders (Drizzle's documented `.prepare()` + `sql.placeholder`), then run with each
 * call's values. Building and rendering a Drizzle query cost about as much client CPU as the
 * round trip it sends (`pnpm bench`); a prepared query skips both, and sends the very same SQL.
 *
 * Only outside a transaction: a prepared query belongs to the session it was built on, and a
 * transaction's session lives for one transaction. Anything this path cannot do exactly — a lock,
 * a null value (Drizzle would encode it through the column instead of sending NULL), a key no
 * constraint enforces, a `$defaultFn` that returns SQL — answers `undefined`, and the caller
 * takes the plain path. `usePreparedStatements(false)` turns it off, for the same-run A/B and
 * the test that holds it to the plain path.
 */
export const statementCache = {
  /** The rows holding `key`'s values of `where` (at most 2), or `undefined`: take the plain path. */
  readByKey(ctx: RowContext, where: Row, key: UniqueKey): Promise<Row[]> | undefined {
    const values = placeholderValues(ctx, where, key.keys, key);
    if (!values) return undefined;
    const prepared = preparedFor(ctx, shapeOf('read', key.keys), (db, placeholder) => {
      const matches = and(...key.keys.map((k) => eq(column(ctx.meta, k), placeholder(k))));
      return isPg(ctx)
        ? (db as AnyPgDatabase)
            .select()
            .from(ctx.meta.table as PgTable)
            .where(matches)
            .limit(2)
        : (db as AnyMySqlDatabase)
            .select()
            .from(ctx.meta.table as MySqlTable)
            .where(matches)
            .limit(2);
    });
    return prepared.execute(values) as Promise<Row[]>;
  },

  /**
   * PostgreSQL: `INSERT … ON CONFLICT (key) DO NOTHING RETURNING` (the rows written); MySQL: the
   * INSERT's raw answer. `undefined`: take the plain path.
   */
  insert(ctx: RowContext, row: Row, key: UniqueKey): Promise<unknown> | undefined {
    const full = withDefaultFnValues(ctx.meta, row);
    if (!full) return undefined;
    const columns = ctx.meta.columnList.map((c) => c.key).filter((name) => name in full);
    const values = placeholderValues(ctx, full, columns, key);
    if (!values) return undefined;
    const prepared = preparedFor(ctx, shapeOf('insert', key.keys, columns), (db, placeholder) => {
      const inserted = Object.fromEntries(columns.map((name) => [name, placeholder(name)]));
      return isPg(ctx)
        ? (db as AnyPgDatabase)
            .insert(ctx.meta.table as PgTable)
            .values(inserted)
            .onConflictDoNothing({ target: key.columns as PgColumn[] })
            .returning()
        : (db as AnyMySqlDatabase).insert(ctx.meta.table as MySqlTable).values(inserted);
    });
    return prepared.execute(values);
  },
};

let enabled = true;

/** Turns the faster path on or off (default on): the bench's A/B and the test against the plain path. */
export function usePreparedStatements(on: boolean): void {
  enabled = on;
}

/** A prepared query, as Drizzle's `.prepare()` returns one. */
interface Prepared {
  execute(values: Record<string, unknown>): Promise<unknown>;
}

type Build = (
  db: Database,
  placeholder: (name: string) => SQL,
) => { prepare(name?: string): Prepared };

/** Shapes kept per root database and table: far beyond what one application sends, yet bounded. */
const MAX_SHAPES = 256;
const cache = new WeakMap<object, WeakMap<object, Map<string, Prepared>>>();

/**
 * The cache's key, built here and nowhere else: what the statement does and which columns its
 * placeholders stand for (the root database and the table are the maps it is kept in).
 */
function shapeOf(
  kind: 'read' | 'insert',
  keys: readonly string[],
  columns: readonly string[] = [],
) {
  return `${kind}|${keys.join(',')}|${columns.join(',')}`;
}

/** The prepared query of `shape` on `ctx`'s root database and table, built by `build` the first time. */
function preparedFor(ctx: RowContext, shape: string, build: Build): Prepared {
  let tables = cache.get(ctx.root);
  if (!tables) cache.set(ctx.root, (tables = new WeakMap()));
  let shapes = tables.get(ctx.meta.table);
  if (!shapes) tables.set(ctx.meta.table, (shapes = new Map()));
  let made = shapes.get(shape);
  if (!made) {
    made = prepareQuery(
      ctx.root,
      build(ctx.root, (name) => sql`${sql.param(sql.placeholder(name), column(ctx.meta, name))}`),
    );
    if (shapes.size < MAX_SHAPES) shapes.set(shape, made);
  }
  return made;
}

/**
 * The placeholder values of a call, or `undefined` when the faster path does not apply: inside a
 * transaction, turned off, on a key no constraint enforces, or with a null value.
 */
function placeholderValues(
  ctx: RowContext,
  row: Row,
  names: readonly string[],
  key: UniqueKey,
): Record<string, unknown> | undefined {
  if (!enabled || ctx.inTransaction || key.unenforced) return undefined;
  const values: Record<string, unknown> = {};
  for (const name of names) {
    const value = row[name];
    if (value === null || value === undefined) return undefined;
    values[name] = value;
  }
  return values;
}

/**
 * `row` with the values Drizzle would fill from each missing column's `$defaultFn`, computed per
 * call (never baked into a prepared query); `undefined` when one answers SQL, or a column would
 * be filled by `$onUpdate` alone — the plain path handles those.
 */
function withDefaultFnValues(meta: TableMeta, row: Row): Row | undefined {
  const full: Row = { ...row };
  for (const { key, column: col } of meta.columnList) {
    if (key in full) continue;
    if (col.defaultFn) {
      const value = col.defaultFn();
      if (is(value, SQL)) return undefined;
      full[key] = value;
    } else if (!col.default && col.onUpdateFn) return undefined;
  }
  return full;
}

function column(meta: TableMeta, key: string): Column {
  return meta.columns.get(key) as Column;
}

function isPg(ctx: RowContext): boolean {
  return ctx.meta.family === 'postgres';
}
