import { type AnyPgDatabase, atomic, type Database } from '@racefree/transactions';
import { executeRows, runQuery } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { containedContext, type RowContext } from '../context.js';
import { builderSelect } from './builder-select.js';
import { anyOf } from '../conditions.js';
import { statementCache } from '../statement-cache.js';
import { recordSetStatements } from './record-set-statements.js';
import type { InsertOutcome, Row, RowsDialect, SelectRequest } from './rows-dialect.js';

/** Drizzle's PostgreSQL lock strengths, by racefree's lock mode. */
const STRENGTH = {
  update: 'update',
  share: 'share',
  'no key update': 'no key update',
  'key share': 'key share',
} as const;

function pg(db: Database): AnyPgDatabase {
  return db as AnyPgDatabase;
}

function table(ctx: RowContext): PgTable {
  return ctx.meta.table as PgTable;
}

/**
 * Runs `run` in a savepoint inside the caller's transaction (an error there then aborts only the
 * savepoint); outside one, or in a transaction a helper opened for itself, as it is.
 */
function inSavepoint<T>(ctx: RowContext, run: (db: Database) => Promise<T>): Promise<T> {
  return ctx.callerTransaction ? atomic(ctx.db, run) : run(ctx.db);
}

/**
 * PostgreSQL, through Drizzle's query builders (prepared on postgres.js). Any error aborts a
 * PostgreSQL transaction, so every insert a helper makes inside the caller's transaction runs
 * in a savepoint — Django's fix for its ticket #20463 — and outside one, where it is not needed,
 * it does not. `INSERT … ON CONFLICT (key) DO NOTHING RETURNING` waits for a concurrent inserter
 * of the key and reports the conflict without an error; a violation of any other constraint
 * still raises one, which the savepoint contains. At REPEATABLE READ and SERIALIZABLE the server
 * raises a serialization failure instead when the winner's row is not in this transaction's
 * snapshot: retryable, for `atomic({ retries })`.
 */
export const postgresRows: RowsDialect = {
  select(ctx, request: SelectRequest) {
    // Refuses before any SQL what this server cannot do.
    if (request.lock) ctx.dialect.lockClause(request.lock.mode, request.lock);
    return builderSelect(ctx, request, request.lock && STRENGTH[request.lock.mode]);
  },

  async insertUnlessTaken(ctx, values, key): Promise<InsertOutcome> {
    const [row] = (await statementCache.insert(ctx, values, key, (full) =>
      inSavepoint(ctx, (db) =>
        runQuery(db, postgresRows.insertQuery(db, ctx.meta.table, full, key)),
      ),
    )) as Row[];
    return row ? { row } : { taken: true };
  },

  insertQuery(db, into, values, key) {
    const insert = pg(db)
      .insert(into as PgTable)
      .values(values);
    // A key no constraint enforces (allowWithoutUniqueKey) has nothing to conflict on.
    return key.unenforced
      ? insert.returning()
      : insert.onConflictDoNothing({ target: key.columns as PgColumn[] }).returning();
  },

  insertsManyFirst: true,

  async insertMany(ctx, rows, key, each) {
    const inserted = await each(() =>
      inSavepoint(ctx, (db) =>
        recordSetStatements.insert(
          containedContext(ctx, db),
          rows,
          key,
          async (full) =>
            (await runQuery(db, postgresRows.insertQuery(db, ctx.meta.table, full, key))) as Row[],
        ),
      ),
    );
    return { rows: inserted };
  },

  async selectByKeys(ctx, key, wanted, lock) {
    const fast = lock ? undefined : await recordSetStatements.select(ctx, wanted, key);
    return fast ?? postgresRows.select(ctx, { where: anyOf(ctx.meta, key.keys, wanted), lock });
  },

  async update(ctx, where, set) {
    return (await runQuery(
      ctx.db,
      pg(ctx.db).update(table(ctx)).set(set).where(where).returning(),
    )) as Row[];
  },

  conflictReadLock: undefined,
  snapshotHidesCommits: (level) => level === 'repeatable read' || level === 'serializable',
  lockWhereByPrimaryKey: false,
  insertWaitsForLockedRow: false,
  noWaitTimeoutMeansHeld: false,
  ownTransactionIsolation: undefined,

  async withLockTimeout(ctx, timeoutMs, run) {
    // A lock timeout aborts the transaction, so it is scoped to a savepoint; set_config(…, true)
    // lasts until the transaction ends, so the old value is put back when the savepoint is
    // released (one that rolls back undoes the setting by itself).
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

  contained: (ctx, run) => inSavepoint(ctx, run),
};
