import { atomic, type Database, isUniqueViolation } from '@racefree/transactions';
import { executeRows } from '@racefree/transactions/internal';
import { type Column, sql } from 'drizzle-orm';
import type { RowContext } from '../context.js';
import { keyVariant, renderStatement, ShapeCache, shapeOf } from '../render-statement.js';
import {
  assignments,
  columnList,
  equalsAll,
  insertInput,
  insertValues,
  queryStatement,
  updateInput,
} from '../row-sql.js';
import { mapRow, type UniqueKey } from '../table-meta.js';
import type { InsertOutcome, RowsDialect } from './rows-dialect.js';

// The shapes of the statements every create sends: see `ShapeCache`.
const insertOnConflictShapes = new ShapeCache();
const insertShapes = new ShapeCache();
const insertOrSelectShapes = new ShapeCache();

const readCommitted = (ctx: RowContext) =>
  ctx.isolationLevel === 'read committed' || ctx.isolationLevel === 'read uncommitted';

function conflictTarget(key: UniqueKey) {
  return sql.join(
    key.columns.map((column: Column) => sql.identifier(column.name)),
    sql`, `,
  );
}

/**
 * Which columns a PostgreSQL unique violation is about, from its detail line
 * `Key (a, b)=(…) already exists.` — the one place the server names them.
 */
function violatedColumns(error: unknown): string[] | undefined {
  for (let e: unknown = error; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const detail = (e as { detail?: unknown }).detail;
    if (typeof detail === 'string') {
      const match = /^Key \((.+?)\)=\(/.exec(detail);
      if (match?.[1])
        return match[1].split(', ').map((name) => name.replace(/^"|"$/g, '').replaceAll('""', '"'));
    }
  }
  return undefined;
}

/**
 * PostgreSQL: at READ COMMITTED, `INSERT … ON CONFLICT (key) DO NOTHING` waits for a concurrent
 * inserter and then reports the conflict without an error — no savepoint, no exception. At
 * REPEATABLE READ / SERIALIZABLE it would raise 40001 and abort the caller's transaction, so
 * there the insert runs in a savepoint and the unique violation is caught.
 */
export const postgresRows: RowsDialect = {
  insertUnlessTaken(ctx, values, key) {
    // Not async at READ COMMITTED, the common case: the INSERT's own promise, mapped in its
    // step, is all a create that wins costs (each async frame adds promises to every call).
    if (readCommitted(ctx) && !key.unenforced) {
      try {
        return insertOnConflictDoNothing(ctx, values, key);
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return insertInSavepoint(ctx, values, key);
  },

  insertOrSelect(ctx, values, key) {
    // At REPEATABLE READ / SERIALIZABLE, ON CONFLICT would raise 40001 instead of reporting it.
    if (!readCommitted(ctx)) return undefined;
    // Not async: the statement's promise, mapped in its step, is all it adds (as above). It
    // can throw before sending (a default function that throws); the caller catches that.
    const input = insertInput(ctx.meta, values);
    // The CTE's insert and the outer select share one snapshot: a row that existed before the
    // statement comes back from the second branch; one committed while we waited does not.
    return executeRows(
      ctx.db,
      renderStatement(
        ctx.db,
        ctx.meta,
        insertOrSelectShapes.of(
          key,
          keyVariant(input.values, key, input.columnSet),
          () => `insert-or-select|${input.shape}|${shapeOf(input.values, key.keys)}`,
        ),
        input.values,
        (param) => {
          const { columns, values: params } = insertValues(ctx.meta, input.keys, param);
          return sql`with inserted as (insert into ${ctx.meta.table} (${columns}) values (${params}) on conflict (${conflictTarget(key)}) do nothing returning ${columnList(ctx.meta)})
select true as "__racefree_created", ${columnList(ctx.meta)} from inserted
union all
select false, ${columnList(ctx.meta)} from ${ctx.meta.table} where ${equalsAll(ctx.meta, input.values, key.keys, param)} and not exists (select 1 from inserted)`;
        },
      ),
    ).then((raw: Record<string, unknown>[]) => {
      const first = raw[0];
      if (!first) return 'taken' as const;
      return { row: mapRow(ctx.meta, first), created: first.__racefree_created === true };
    });
  },

  conflictReadLock: undefined,

  snapshotHidesCommits: (level) => level === 'repeatable read' || level === 'serializable',

  lockWhereByPrimaryKey: false,
  noWaitTimeoutMeansHeld: false,

  ownTransactionIsolation: undefined,

  async updateReturning(ctx, where, set) {
    const update = updateInput(ctx.meta, where, set);
    return queryStatement(ctx.db, ctx.meta, `update|${update.shape}`, update.values, (param) => {
      const assigned = assignments(ctx.meta, update.setKeys, param, 's.');
      const condition = equalsAll(ctx.meta, update.values, update.whereKeys, param, 'w.');
      return sql`update ${ctx.meta.table} set ${assigned} where ${condition} returning ${columnList(ctx.meta)}`;
    });
  },

  async withLockTimeout(ctx, timeoutMs, run) {
    // A lock timeout aborts the transaction: scope it to a savepoint. set_config(…, true) lasts
    // until the transaction ends, so the old value is put back when the savepoint succeeds (a
    // rolled-back savepoint undoes the setting by itself).
    return atomic(ctx.db, async (sp) => {
      const [row] = await executeRows<{ previous: string }>(
        sp,
        sql`select current_setting('lock_timeout') as previous, set_config('lock_timeout', ${`${timeoutMs}ms`}, true)`,
      );
      const result = await run(sp, undefined);
      await executeRows(sp, sql`select set_config('lock_timeout', ${row?.previous ?? '0'}, true)`);
      return result;
    });
  },

  async contained(ctx, run) {
    return ctx.inTransaction ? atomic(ctx.db, run) : run(ctx.db);
  },
};

/** `INSERT … ON CONFLICT (key) DO NOTHING RETURNING`: the row, or the conflict (READ COMMITTED). */
const insertOnConflictDoNothing: RowsDialect['insertUnlessTaken'] = (ctx, values, key) => {
  const input = insertInput(ctx.meta, values);
  return queryStatement(
    ctx.db,
    ctx.meta,
    insertOnConflictShapes.of(
      key,
      input.columnSet,
      () => `insert-on-conflict|${input.shape}|${key.keys}`,
    ),
    input.values,
    (param) => {
      const { columns, values: params } = insertValues(ctx.meta, input.keys, param);
      return sql`insert into ${ctx.meta.table} (${columns}) values (${params}) on conflict (${conflictTarget(key)}) do nothing returning ${columnList(ctx.meta)}`;
    },
    (rows): InsertOutcome => (rows[0] ? { row: rows[0] } : { conflict: 'certain' }),
  );
};

/**
 * A plain INSERT (in a savepoint inside a transaction, so a violation dooms only that),
 * catching the unique violation on our key: at REPEATABLE READ / SERIALIZABLE, or on a key no
 * constraint enforces.
 */
const insertInSavepoint: RowsDialect['insertUnlessTaken'] = async (ctx, values, key) => {
  const input = insertInput(ctx.meta, values);
  const insert = (db: Database) =>
    queryStatement(
      db,
      ctx.meta,
      insertShapes.of(ctx.meta, input.columnSet, () => `insert|${input.shape}`),
      input.values,
      (param) => {
        const { columns, values: params } = insertValues(ctx.meta, input.keys, param);
        return sql`insert into ${ctx.meta.table} (${columns}) values (${params}) returning ${columnList(ctx.meta)}`;
      },
    );
  try {
    const rows = ctx.inTransaction ? await atomic(ctx.db, insert) : await insert(ctx.db);
    return { row: rows[0] as Record<string, unknown> };
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    const violated = violatedColumns(error);
    if (!violated) return { conflict: 'unknown', error };
    const ours = key.columns.map((c) => c.name);
    if (violated.length === ours.length && violated.every((name) => ours.includes(name)))
      return { conflict: 'certain' };
    throw error;
  }
};
