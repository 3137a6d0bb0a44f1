import { type AnyMySqlDatabase, classifyError, type Database } from '@racefree/transactions';
import { driverOf, executeRows, executeStatement, runQuery } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import type { MySqlTable } from 'drizzle-orm/mysql-core';
import type { RowContext } from '../context.js';
import { builderSelect } from './builder-select.js';
import { columnList } from './column-list.js';
import { insertBlock } from './insert-block.js';
import { anyOf, matching } from '../conditions.js';
import { statementCache } from '../statement-cache.js';
import { mapRow } from '../table-meta.js';
import type { UniqueKey } from '../table-meta.js';
import type {
  InsertManyOutcome,
  InsertOutcome,
  Row,
  RowsDialect,
  SelectRequest,
} from './rows-dialect.js';

function my(db: Database): AnyMySqlDatabase {
  return db as AnyMySqlDatabase;
}

function table(ctx: RowContext): MySqlTable {
  return ctx.meta.table as MySqlTable;
}

/**
 * A read through Drizzle's query builder, which maps the rows itself — except where the builder
 * cannot write what the server needs: MariaDB's share lock (`LOCK IN SHARE MODE`; the builder
 * writes `FOR SHARE`, which MariaDB rejects) and MariaDB's `SET STATEMENT … FOR` prefix. Those
 * reads are written out (see `writtenOutSelect`).
 */
async function select(ctx: RowContext, request: SelectRequest): Promise<Row[]> {
  // Refuses before any SQL what this server cannot do.
  const lock = request.lock ? ctx.dialect.lockClause(request.lock.mode, request.lock) : '';
  if (request.prefix || (lock !== '' && !lock.trimStart().startsWith('FOR ')))
    return writtenOutSelect(ctx, request, lock);
  return builderSelect(ctx, request, request.lock?.mode);
}

/** A read as SQL of our own, its rows mapped through the table's columns as Drizzle would. */
async function writtenOutSelect(
  ctx: RowContext,
  request: SelectRequest,
  lock: string,
): Promise<Row[]> {
  const order = request.orderBy
    ? sql` order by ${sql.join(
        request.orderBy.map((column) => sql`${column}`),
        sql`, `,
      )}`
    : sql``;
  // A parameter, as Drizzle's builder sends it.
  const limit = request.limit !== undefined ? sql` limit ${request.limit}` : sql``;
  const raw = await executeRows(
    ctx.db,
    sql`${request.prefix ?? sql``}select ${columnList(ctx, request.columns)} from ${table(ctx)} where ${request.where}${order}${limit}${sql.raw(lock)}`,
  );
  return raw.map((row) => mapRow(ctx.meta, row));
}

/**
 * Inserts one row: written, or `{ taken }` when its key is (with `error` when the server named
 * an index racefree does not know). Any other error is thrown.
 */
async function insertRow(
  ctx: RowContext,
  values: Row,
  key: UniqueKey,
): Promise<{ written: true } | { taken: true; error?: unknown }> {
  try {
    await statementCache.insert(ctx, values, key, (full) =>
      runQuery(ctx.db, mysqlRows.insertQuery(ctx.db, ctx.meta.table, full, key)),
    );
    return { written: true };
  } catch (error) {
    // The server names the key in the duplicate-key message ("… for key 'tags_name_unique'").
    const { kind, constraint } = classifyError(error);
    if (kind !== 'unique_violation') throw error;
    if (constraint === key.name && !key.unenforced) return { taken: true };
    // Another key the Drizzle table declares: not ours to swallow.
    if (ctx.meta.uniqueKeys.some((other) => other !== key && other.name === constraint))
      throw error;
    // A name racefree does not know — an index created by hand names itself after its column
    // (`name`, not Drizzle's `tags_name_unique`) — is ours only if a row with our key turns
    // up: the caller re-reads, and rethrows the error when there is none.
    return { taken: true, error };
  }
}

/**
 * MySQL and MariaDB. A failed statement rolls back only itself, never the transaction, so an
 * insert needs no savepoint for the caller's transaction to stay usable; a deadlock is the
 * exception, and rolls back the whole transaction — a transient error for
 * `atomic({ retries })`. The re-read after a duplicate key must be a locking read: at
 * REPEATABLE READ a plain SELECT answers from the snapshot taken before the winner committed
 * (the bug in the classic MySQL get_or_create). `INSERT IGNORE` is never used: it also turns
 * data errors into warnings.
 */
export const mysqlRows: RowsDialect = {
  select,

  async insertUnlessTaken(ctx, values, key): Promise<InsertOutcome> {
    const outcome = await insertRow(ctx, values, key);
    if ('taken' in outcome) return outcome;
    // No RETURNING in MySQL: read the row back by its key — ours, visible to us (and locked by
    // us inside a transaction). Outside one it may already be gone again: then it was taken.
    const [row] = await (statementCache.readByKey(ctx, values, key) ??
      select(ctx, { where: matching(ctx.meta, values, key.keys), limit: 2 }));
    return row ? { row } : { taken: true };
  },

  insertQuery: (db, into, values) =>
    my(db)
      .insert(into as MySqlTable)
      .values(values),

  insertsManyFirst: false,

  async insertMany(ctx, rows, key, each): Promise<InsertManyOutcome> {
    const block = insertBlock(ctx, rows, key, each);
    if (block) return block;
    const written: Row[] = [];
    const found: Array<[number, Row]> = [];
    let unknownConflict: unknown;
    for (const [index, values] of rows.entries()) {
      const outcome = await each(() => insertRow(ctx, values, key));
      if ('written' in outcome) {
        written.push(values);
        continue;
      }
      // Taken: read the winner's row now, before any greater key (see RowsDialect.insertMany).
      const where = matching(ctx.meta, values, key.keys);
      const [winner] = await each(() => select(ctx, { where, lock: { mode: 'share' }, limit: 1 }));
      if (winner) found.push([index, winner]);
      else unknownConflict ??= outcome.error;
    }
    // The rows written, read back in one statement (ids and database defaults included).
    const read =
      written.length === 0
        ? []
        : await each(() => mysqlRows.selectByKeys(ctx, key, written, undefined));
    return unknownConflict === undefined
      ? { rows: read, found }
      : { rows: read, found, unknownConflict };
  },

  selectByKeys: (ctx, key, wanted, lock) =>
    select(ctx, { where: anyOf(ctx.meta, key.keys, wanted), lock }),

  async update(ctx, where, set, after) {
    const answer = await runQuery(ctx.db, my(ctx.db).update(table(ctx)).set(set).where(where));
    // mysql2 connects with CLIENT_FOUND_ROWS: the count is of rows *matched*, so an UPDATE that
    // writes the values a row already has still counts it. Nothing matched: nothing to read
    // back — at READ COMMITTED the UPDATE took no gap lock, and a row another caller commits
    // right now would be found by a read, a row this call never wrote.
    if (driverOf(ctx.db).answer(answer).rowCount === 0) return [];
    // We hold the rows' locks already; a locking read sees their latest version at any level.
    return select(ctx, { where: after, lock: { mode: 'update' } });
  },

  conflictReadLock: { mode: 'share' },
  snapshotHidesCommits: () => false,
  lockWhereByPrimaryKey: true,
  insertWaitsForLockedRow: true,
  noWaitTimeoutMeansHeld: true,
  ownTransactionIsolation: 'read committed',

  async withLockTimeout(ctx, timeoutMs, run) {
    const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
    // MariaDB scopes the setting to one statement: nothing to restore.
    if (ctx.dialect.kind === 'mariadb')
      return run(ctx.db, sql.raw(`SET STATEMENT innodb_lock_wait_timeout=${seconds} FOR `));
    const [row] = await executeRows<{ previous: number }>(
      ctx.db,
      sql`select @@innodb_lock_wait_timeout as previous`,
    );
    await executeStatement(ctx.db, sql.raw(`SET SESSION innodb_lock_wait_timeout = ${seconds}`));
    try {
      return await run(ctx.db, undefined);
    } finally {
      await executeStatement(
        ctx.db,
        sql.raw(`SET SESSION innodb_lock_wait_timeout = ${Number(row?.previous ?? 50)}`),
      );
    }
  },

  contained: (ctx, run) => run(ctx.db),
};
