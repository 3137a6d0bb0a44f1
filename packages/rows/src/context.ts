import {
  type Database,
  InvalidArgumentError,
  type IsolationLevel,
  TransactionRequiredError,
  UnmanagedTransactionError,
} from '@racefree/transactions';
import {
  activeTransaction,
  type Dialect,
  dialectOf,
  familyOf,
  knownDialect,
} from '@racefree/transactions/internal';
import { type RowsDialect, rowsDialectFor } from './dialects/rows-dialect-for.js';
import type { TableMeta } from './table-meta.js';

/** Where a helper runs: the statement target, the server's dialect and the transaction's level. */
export interface RowContext {
  /** The open transaction for the caller's `db` (what `current(db)` returns), or the root database. */
  db: Database;
  /** The root database (the probe, and the turn of a one-connection database, belong to it). */
  root: Database;
  dialect: Dialect;
  rows: RowsDialect;
  meta: TableMeta;
  inTransaction: boolean;
  /**
   * True when a failed insert must be contained in a savepoint to leave the transaction usable
   * (#20463): inside the caller's transaction — not one a helper opened for itself, where any
   * failure ends the transaction anyway.
   */
  callerTransaction: boolean;
  /** The level the statements run at (the server's default outside a transaction). */
  isolationLevel: IsolationLevel;
  /**
   * What the server answered earlier in this call that later statements of the call follow,
   * shared by the contexts derived from it and never kept beyond the call: whether the table
   * takes record sets (`recordSetStatements`, told by its first insert).
   */
  answered: { recordSets?: boolean };
}

/**
 * Resolves the caller's `db` as `current()` does and probes (once per database) the server's
 * dialect. Refuses a table of the other family, a transaction `atomic` did not open (racefree
 * can neither know its isolation level nor put a savepoint in it), and — for the locking
 * helpers — a missing transaction.
 */
export async function rowContext(
  db: Database,
  meta: TableMeta,
  operation: string,
  options: { requireTransaction?: boolean; ownTransaction?: boolean } = {},
): Promise<RowContext> {
  const family = familyOf(db, operation);
  if (family !== meta.family)
    throw new InvalidArgumentError(
      `${operation}: ${meta.displayName} is a ${meta.family} table but db is a ${family} database`,
    );
  const active = activeTransaction(db);
  if (active?.unmanaged) throw new UnmanagedTransactionError(operation);
  if (!active && options.requireTransaction) throw new TransactionRequiredError(operation);
  const root = active?.root ?? db;
  // Probed on the root's own pooled connection, never as a statement of the caller's transaction.
  const dialect = knownDialect(root) ?? (await dialectOf(root));
  return {
    db: active?.tx ?? db,
    root,
    dialect,
    rows: rowsDialectFor(dialect),
    meta,
    inTransaction: active !== undefined,
    callerTransaction: active !== undefined && options.ownTransaction !== true,
    isolationLevel: active?.isolationLevel ?? dialect.defaultIsolationLevel,
    answered: {},
  };
}

/**
 * The context of a helper's work inside a savepoint (or any block) it opened on `db` in the
 * caller's transaction: a failure there is contained already, so no statement needs a savepoint
 * of its own.
 */
export function containedContext(ctx: RowContext, db: Database): RowContext {
  return { ...ctx, db, callerTransaction: false };
}
