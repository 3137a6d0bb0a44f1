import type { AnyMySqlDatabase } from '@racefree/transactions';
import { execute } from '@racefree/transactions/internal';
import { type Column, isSQLWrapper, type SQL, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import type { RowContext } from '../context.js';
import { mapRow, type UniqueKey } from '../table-meta.js';
import { columnList } from './column-list.js';
import type { InsertManyOutcome, Row } from './rows-dialect.js';

let enabled = true;

/** The column a taken key's result set names the index of its values in. */
const AT = 'racefree_at';
/**
 * Values a block carries at most (roughly): far under `max_allowed_packet` as servers ship it
 * (MariaDB 16 MiB, MySQL 64 MiB), and still hundreds of ordinary rows.
 */
const MAX_BLOCK_BYTES = 1 << 20;
/** The block's own text per row, and what a number, a date or SQL takes at most. */
const ROW_OVERHEAD_BYTES = 200;
const SMALL_VALUE_BYTES = 64;

/**
 * Turns MariaDB's insert blocks on or off (default on): the bench's same-run A/B and the tests
 * that hold the block to the row-per-statement path MySQL takes.
 */
export function useInsertBlocks(on: boolean): void {
  enabled = on;
}

/**
 * The faster path of getOrCreateMany's inserts on MariaDB (docs/design.md, "Bulk get-or-create
 * on InnoDB"): the same INSERTs as the row-per-statement path, one per row in the order given,
 * sent as one anonymous compound statement together with the read of the rows — one round trip
 * a batch instead of one per row. Each INSERT has a handler for a duplicate key: when a row with
 * its key exists (a locking read, as the row-per-statement path makes), the key is taken and
 * the block goes on; otherwise the error is not ours and is raised again as it is. Outside a
 * transaction the block is a READ COMMITTED transaction of its own (one commit a batch, not one
 * a row; a failure rolls back the batch and is raised as it is), so a deadlock re-runs the
 * whole block. A batch of wide rows is split into several blocks (`MAX_BLOCK_BYTES`; values go
 * in the statement's text, which mysql2 formats, so no parameter limit applies). Returns
 * `undefined` where it does not apply: MySQL (compound statements only in stored programs), a
 * key no unique index enforces, a table in a named database (`mysqlSchema`: Drizzle names a
 * column by its table alone, which `TYPE OF` would look up in the connection's database), a
 * column keyed `racefree_at`, or when turned off.
 */
export function insertBlock(
  ctx: RowContext,
  rows: readonly Row[],
  key: UniqueKey,
  each: <R>(statement: () => Promise<R>) => Promise<R>,
): Promise<InsertManyOutcome> | undefined {
  if (
    !enabled ||
    !ctx.dialect.supportsAnonymousBlocks ||
    key.unenforced ||
    ctx.meta.schema !== undefined ||
    ctx.meta.columns.has(AT)
  )
    return undefined;
  return run(ctx, rows, key, each);
}

async function run(
  ctx: RowContext,
  rows: readonly Row[],
  key: UniqueKey,
  each: <R>(statement: () => Promise<R>) => Promise<R>,
): Promise<InsertManyOutcome> {
  const written: Row[] = [];
  const found: Array<[number, Row]> = [];
  let start = 0;
  for (const chunk of chunksBySize(rows, key)) {
    const { sets } = await each(() => execute(ctx.db, blockSql(ctx, chunk, key)));
    // One set per taken key, in the order met, then the rows of the INSERTs that went in.
    for (const set of sets.slice(0, -1)) {
      const raw = set[0] as Record<string, unknown>;
      found.push([start + Number(raw[AT]), mapRow(ctx.meta, raw)]);
    }
    for (const raw of sets.at(-1) ?? []) written.push(mapRow(ctx.meta, raw));
    start += chunk.length;
  }
  return { rows: written, found };
}

/**
 * The rows in consecutive runs (key order kept) of at most about `MAX_BLOCK_BYTES` of values
 * each — a key value counts three times, as the block sends it — so that a batch of wide rows
 * is split into several blocks instead of overrunning the server's `max_allowed_packet`.
 */
function* chunksBySize(rows: readonly Row[], key: UniqueKey): Generator<Row[]> {
  let chunk: Row[] = [];
  let size = 0;
  for (const row of rows) {
    let bytes = ROW_OVERHEAD_BYTES;
    for (const [name, value] of Object.entries(row))
      bytes += valueBytes(value) * (key.keys.includes(name) ? 3 : 1);
    if (chunk.length > 0 && size + bytes > MAX_BLOCK_BYTES) {
      yield chunk;
      chunk = [];
      size = 0;
    }
    chunk.push(row);
    size += bytes;
  }
  if (chunk.length > 0) yield chunk;
}

/** An upper bound of a value's size in the statement text (escaped, or hex for bytes). */
function valueBytes(value: unknown): number {
  if (typeof value === 'string') return 2 * Buffer.byteLength(value);
  if (value instanceof Uint8Array) return 2 * value.byteLength + 3;
  if (
    value !== null &&
    typeof value === 'object' &&
    !isSQLWrapper(value) &&
    !(value instanceof Date)
  )
    try {
      return 2 * Buffer.byteLength(JSON.stringify(value) ?? '');
    } catch {
      return SMALL_VALUE_BYTES;
    }
  return SMALL_VALUE_BYTES;
}

/**
 * The block. Outside any transaction it opens its own, and its exit handler rolls that back
 * before raising any error again; the duplicate-key handler sits in an inner block, so that an
 * error it raises again reaches the exit handler. Before each INSERT the row's index and key
 * values go into local variables of the key columns' own types (`TYPE OF`; the values encoded
 * by their columns, as the INSERT encodes them), which the one duplicate-key handler reads: a
 * taken key's row is read there and then with a locking read of the whole row — as the
 * row-per-statement path reads it, so that the wait for its inserter's commit comes before any
 * greater key — and sent as a result set of its own, with the index of the values that asked
 * (`racefree_at`); the index goes into `racefree_taken`. The last read is a plain one, of the
 * keys whose INSERT went in: the rows this block wrote, whatever spelling the server stored
 * them in. Variables are named `racefree_…` and columns are always qualified by their table
 * (Drizzle renders them so), so a column is never read as a variable.
 */
function blockSql(ctx: RowContext, rows: readonly Row[], key: UniqueKey): SQL {
  const target = ctx.meta.table as MySqlTable;
  const db = ctx.db as AnyMySqlDatabase;
  const share = sql.raw(ctx.dialect.lockClause('share'));
  const keyColumns = key.keys.map((name) => ctx.meta.columns.get(name) as Column);
  const variables = keyColumns.map((_, j) => sql.raw(`racefree_k${j}`));
  const declarations = keyColumns.map(
    (column, j) => sql`declare ${variables[j]} type of ${column};`,
  );
  const sameKey = sql.join(
    keyColumns.map((column, j) => sql`${column} = ${variables[j]}`),
    sql` and `,
  );
  const inserts: SQL[] = [];
  const wentIn: SQL[] = [];
  rows.forEach((values, index) => {
    const keyValues = keyColumns.map((column, j) => encoded(values[key.keys[j] as string], column));
    const assign = sql.join(
      keyValues.map((value, j) => sql`, ${variables[j]} = ${value}`),
      sql``,
    );
    const insert = db.insert(target).values(values).getSQL();
    inserts.push(sql`set racefree_at = ${sql.raw(String(index))}${assign}; ${insert};`);
    const same = sql.join(
      keyValues.map((value, j) => sql`${keyColumns[j]} = ${value} and `),
      sql``,
    );
    wentIn.push(sql`(${same}locate(${sql.raw(`',${index},'`)}, racefree_taken) = 0)`);
  });
  return sql.join(
    [
      sql.raw(
        'begin not atomic declare racefree_own boolean default @@in_transaction = 0; ' +
          "declare racefree_taken text default ','; " +
          'declare exit handler for sqlexception begin if racefree_own then rollback; end if; resignal; end; ' +
          'if racefree_own then set transaction isolation level read committed; start transaction; end if; ' +
          'begin declare racefree_at int;',
      ),
      ...declarations,
      sql`declare continue handler for 1062 begin select racefree_at as ${sql.identifier(AT)}, ${columnList(ctx)} from ${target} where ${sameKey}${share}; if found_rows() = 0 then resignal; end if; set racefree_taken = concat(racefree_taken, racefree_at, ','); end;`,
      ...inserts,
      sql`end; select ${columnList(ctx)} from ${target} where ${sql.join(wentIn, sql` or `)};`,
      sql.raw('if racefree_own then commit; end if; end'),
    ],
    sql` `,
  );
}

/** A key value as the INSERT sends it: SQL as it is, a value through its column's encoding. */
function encoded(value: unknown, column: Column): SQL | ReturnType<typeof sql.param> {
  return isSQLWrapper(value) ? sql`${value}` : sql.param(value, column);
}
