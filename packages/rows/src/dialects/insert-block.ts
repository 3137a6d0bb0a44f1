import type { AnyMySqlDatabase } from '@racefree/transactions';
import { execute } from '@racefree/transactions/internal';
import { type Column, type SQL, sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import { anyOf } from '../conditions.js';
import type { RowContext } from '../context.js';
import { keyIdentity } from '../key-identity.js';
import { mapRow, type UniqueKey } from '../table-meta.js';
import { columnList } from './column-list.js';
import type { InsertManyOutcome, Row } from './rows-dialect.js';

let enabled = true;

/** The column a taken key's result set names the index of its values in. */
const AT = 'racefree_at';

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
 * whole block. Returns `undefined` where it does not apply: MySQL (compound statements only in
 * stored programs), a key no unique index enforces, a table in a named database (`mysqlSchema`:
 * Drizzle names a column by its table alone, which `TYPE OF` would look up in the connection's
 * database), a column keyed `racefree_at`, or when turned off.
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
  const { sets } = await each(() => execute(ctx.db, blockSql(ctx, rows, key)));
  // One set per taken key, in the order met, then the read of every key of the batch.
  const found: Array<[number, Row]> = sets
    .slice(0, -1)
    .map((set) => set[0] as Record<string, unknown>)
    .map((raw) => [Number(raw[AT]), mapRow(ctx.meta, raw)]);
  // A row a taken key led to is this block's own when the block wrote its very values (two
  // spellings of one key in one batch: the second finds the first's row).
  const identity = (row: Row) => keyIdentity(ctx.meta, key.keys, row);
  const takenAt = new Set(found.map(([index]) => index));
  const mine = new Set(rows.filter((_, index) => !takenAt.has(index)).map(identity));
  const theirs = new Set(found.map(([, row]) => identity(row)).filter((id) => !mine.has(id)));
  const written = (sets.at(-1) ?? [])
    .map((raw) => mapRow(ctx.meta, raw))
    .filter((row) => !theirs.has(identity(row)));
  return { rows: written, found };
}

/**
 * The block. Outside any transaction it opens its own, and its exit handler rolls that back
 * before raising any error again; the duplicate-key handler sits in an inner block, so that an
 * error it raises again reaches the exit handler. Before each INSERT the row's index and key
 * values go into local variables of the key columns' own types (`TYPE OF`), which the one
 * duplicate-key handler reads: a taken key's row is read there and then with a locking read of
 * the whole row — as the row-per-statement path reads it, so that the wait for its inserter's
 * commit comes before any greater key — and sent as a result set of its own, with the index of
 * the values that asked (`racefree_at`). The last read is a plain one: the rows this block wrote
 * are visible to it, and the taken rows it may also see are the ones already sent, value for
 * value (their locks are held). Variables are named `racefree_…` and columns are always
 * qualified by their table (Drizzle renders them so), so a column is never read as a variable.
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
  const taken = sql.join(
    keyColumns.map((column, j) => sql`${column} = ${variables[j]}`),
    sql` and `,
  );
  const inserts = rows.map((values, index) => {
    const assign = sql.join(
      key.keys.map((name, j) => sql`, ${variables[j]} = ${values[name]}`),
      sql``,
    );
    const insert = db.insert(target).values(values).getSQL();
    return sql`set racefree_at = ${sql.raw(String(index))}${assign}; ${insert};`;
  });
  return sql.join(
    [
      sql.raw(
        'begin not atomic declare racefree_own boolean default @@in_transaction = 0; ' +
          'declare exit handler for sqlexception begin if racefree_own then rollback; end if; resignal; end; ' +
          'if racefree_own then set transaction isolation level read committed; start transaction; end if; ' +
          'begin declare racefree_at int;',
      ),
      ...declarations,
      sql`declare continue handler for 1062 begin select racefree_at as ${sql.identifier(AT)}, ${columnList(ctx)} from ${target} where ${taken}${share}; if found_rows() = 0 then resignal; end if; end;`,
      ...inserts,
      sql`end; select ${columnList(ctx)} from ${target} where ${anyOf(ctx.meta, key.keys, rows)};`,
      sql.raw('if racefree_own then commit; end if; end'),
    ],
    sql` `,
  );
}
