import { classifyError } from '@racefree/transactions';
import {
  atLeast,
  type Dialect,
  executeRows,
  executeStatement,
} from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import {
  keyVariant,
  type ParamOf,
  renderStatement,
  ShapeCache,
  shapeOf,
} from '../render-statement.js';
import {
  assignments,
  columnList,
  equalsAll,
  insertInput,
  insertValues,
  queryRows,
  queryStatement,
  selectSql,
  updateInput,
} from '../row-sql.js';
import type { UniqueKey } from '../table-meta.js';
import type { InsertOutcome, RowsDialect } from './rows-dialect.js';

/**
 * MySQL and MariaDB. A duplicate-key error rolls back only the statement (never the
 * transaction), so the insert needs no savepoint; the re-read after it must be a locking read,
 * because at REPEATABLE READ a plain SELECT answers from the snapshot taken before the winner
 * committed (the bug in the classic MySQL get_or_create). `INSERT IGNORE` is never used: it also
 * turns data errors into warnings.
 */
export function mysqlFamilyRows(dialect: Dialect): RowsDialect {
  const insertReturning = dialect.kind === 'mariadb' && atLeast(dialect.version, 10, 5);
  const setStatement = dialect.kind === 'mariadb';
  // The shapes of the statements every create sends: see `ShapeCache`.
  const insertShapes = new ShapeCache();
  const insertedRowShapes = new ShapeCache();
  return {
    async insertUnlessTaken(
      ctx: RowContext,
      values: Record<string, unknown>,
      key: UniqueKey,
    ): Promise<InsertOutcome> {
      const input = insertInput(ctx.meta, values);
      const insert = renderStatement(
        ctx.db,
        ctx.meta,
        insertShapes.of(
          ctx.meta,
          input.columnSet,
          () => `insert|${input.shape}|${insertReturning}`,
        ),
        input.values,
        (param) => {
          const { columns, values: params } = insertValues(ctx.meta, input.keys, param);
          return sql`insert into ${ctx.meta.table} (${columns}) values (${params})${
            insertReturning ? sql` returning ${columnList(ctx.meta)}` : sql``
          }`;
        },
      );
      try {
        if (insertReturning) {
          const rows = await queryRows(ctx.db, ctx.meta, insert);
          return { row: rows[0] as Record<string, unknown> };
        }
        await executeStatement(ctx.db, insert);
      } catch (error) {
        // classifyError reads the key name from the duplicate-key message (`… for key 'books.books_isbn_unique'`).
        const { kind, constraint: name } = classifyError(error);
        if (kind !== 'unique_violation') throw error;
        if (name === undefined) return { conflict: 'unknown', error };
        if (name === key.name) return { conflict: 'certain' };
        // A key of this table we know, but not ours: the row is not ours to return.
        if (ctx.meta.uniqueKeys.some((k) => k.name === name)) throw error;
        return { conflict: 'unknown', error };
      }
      // MySQL has no INSERT … RETURNING: read back our own row (visible to us, locked by us).
      const [row] = await queryStatement(
        ctx.db,
        ctx.meta,
        insertedRowShapes.of(
          key,
          keyVariant(values, key, 'plain'),
          () => `inserted-row|${shapeOf(values, key.keys)}`,
        ),
        values,
        (param) => selectSql(ctx.meta, equalsAll(ctx.meta, values, key.keys, param)),
      );
      return { row: row as Record<string, unknown> };
    },

    conflictReadLock: 'share',

    snapshotHidesCommits: () => false,

    lockWhereByPrimaryKey: true,
    noWaitTimeoutMeansHeld: true,

    ownTransactionIsolation: 'read committed',

    async updateReturning(ctx, where, set) {
      const update = updateInput(ctx.meta, where, set);
      const condition = (param: ParamOf) =>
        equalsAll(ctx.meta, update.values, update.whereKeys, param, 'w.');
      // mysql2 connects with CLIENT_FOUND_ROWS (its default): the count is of rows *matched*,
      // so an UPDATE that writes the values a row already has still counts it.
      const matched = await executeStatement(
        ctx.db,
        renderStatement(ctx.db, ctx.meta, `update|${update.shape}`, update.values, (param) => {
          const assigned = assignments(ctx.meta, update.setKeys, param, 's.');
          return sql`update ${ctx.meta.table} set ${assigned} where ${condition(param)}`;
        }),
      );
      // Nothing matched: nothing updated, and nothing to read back. At READ COMMITTED the
      // UPDATE took no gap lock, so a row another caller commits right now would be found by
      // the read below — a row this call never wrote (the bench caught it: rows carrying
      // another caller's value).
      if (matched === 0) return [];
      // No UPDATE … RETURNING here: read the rows back with a locking read (we hold their X
      // locks already), which sees the latest version even at REPEATABLE READ.
      const lockClause = ctx.dialect.lockClause('update');
      return queryStatement(
        ctx.db,
        ctx.meta,
        `updated-rows|${shapeOf(where, update.whereKeys)}|${lockClause}`,
        update.values,
        (param) => selectSql(ctx.meta, condition(param), { lockClause }),
      );
    },

    async withLockTimeout(ctx, timeoutMs, run) {
      const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
      if (setStatement) {
        // MariaDB scopes the setting to one statement: nothing to restore.
        return run(ctx.db, sql.raw(`SET STATEMENT innodb_lock_wait_timeout=${seconds} FOR `));
      }
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
}
