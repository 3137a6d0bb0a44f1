import type { Database } from '@racefree/transactions';
import { prepareQuery } from '@racefree/transactions/internal';
import { and, type Column, eq, isSQLWrapper, type SQL, sql } from 'drizzle-orm';
import type { RowContext } from './context.js';
import { selectQuery } from './dialects/builder-select.js';
import type { PreparableQuery, Row } from './dialects/rows-dialect.js';
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
 * a null value (Drizzle would encode it through the column instead of sending NULL), SQL given
 * as a value, a key no constraint enforces — takes the plain path. `usePreparedStatements(false)`
 * turns it off, for the same-run A/B and the test that holds it to the plain path.
 */
export const statementCache = {
  /** The rows holding `key`'s values of `where` (at most 2), or `undefined`: take the plain path. */
  readByKey(ctx: RowContext, where: Row, key: UniqueKey): Promise<Row[]> | undefined {
    if (!applies(ctx, key) || !bindable(where, key.keys)) return undefined;
    const values = pick(where, key.keys);
    const prepared = preparedFor(ctx, shapeOf('read', key.keys), (db, placeholder) => {
      const matches = and(...key.keys.map((k) => eq(column(ctx.meta, k), placeholder(k))));
      return selectQuery(db, ctx.meta.table, matches as SQL).limit(2);
    });
    return prepared.execute(values) as Promise<Row[]>;
  },

  /**
   * Runs the insert of `row`: PostgreSQL `INSERT … ON CONFLICT (key) DO NOTHING RETURNING` (the
   * rows written), MySQL the INSERT's raw answer. Prepared when the faster path applies, else
   * `plain(values)` — given the `$defaultFn` values already computed, if any were: a column's
   * `$defaultFn` runs once per insert, whichever path sends it.
   */
  insert(
    ctx: RowContext,
    row: Row,
    key: UniqueKey,
    plain: (values: Row) => Promise<unknown>,
  ): Promise<unknown> {
    if (!applies(ctx, key) || !bindable(row, Object.keys(row))) return plain(row);
    const full = withDefaultFnValues(ctx.meta, row);
    const columns = ctx.meta.columnList.map((c) => c.key).filter((name) => name in full);
    if (!bindable(full, columns)) return plain(full);
    const prepared = preparedFor(ctx, shapeOf('insert', key.keys, columns), (db, placeholder) => {
      const inserted = Object.fromEntries(columns.map((name) => [name, placeholder(name)]));
      return ctx.rows.insertQuery(db, ctx.meta.table, inserted, key);
    });
    return prepared.execute(pick(full, columns));
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

type Build = (db: Database, placeholder: (name: string) => SQL) => PreparableQuery;

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
 * True when the faster path may serve a call at all: turned on, outside a transaction, on a key
 * a constraint enforces. Checked before anything is computed for it (a `$defaultFn` may have
 * effects, and must not run for a path that is then not taken).
 */
function applies(ctx: RowContext, key: UniqueKey): boolean {
  return enabled && !ctx.inTransaction && !key.unenforced;
}

/**
 * True when `names` of `row` can all be bound as placeholder values: not null (Drizzle would
 * encode a null through the column instead of sending NULL) and not SQL of the caller's
 * (`sql\`now()\``, a Drizzle param), which is part of the statement's text, not a value.
 */
function bindable(row: Row, names: readonly string[]): boolean {
  return names.every((name) => {
    const value = row[name];
    return value !== null && value !== undefined && !isSQLWrapper(value);
  });
}

function pick(row: Row, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, row[name]]));
}

/**
 * `row` with the values Drizzle would fill from each missing column's `$defaultFn`, computed
 * per call (never baked into a prepared query). A column Drizzle would fill from `$onUpdate`
 * alone gets that value too, as Drizzle's insert does.
 */
export function withDefaultFnValues(meta: TableMeta, row: Row): Row {
  const full: Row = { ...row };
  for (const { key, column: col } of meta.columnList) {
    if (key in full) continue;
    if (col.defaultFn) full[key] = col.defaultFn();
    else if (!col.default && col.onUpdateFn) full[key] = col.onUpdateFn();
  }
  return full;
}

function column(meta: TableMeta, key: string): Column {
  return meta.columns.get(key) as Column;
}
