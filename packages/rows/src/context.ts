import {
  type Database,
  InvalidArgumentError,
  type IsolationLevel,
  TransactionRequiredError,
  UnmanagedTransactionError,
} from '@racefree/transactions';
import {
  type ActiveTransaction,
  activeTransaction,
  type Dialect,
  dialectOf,
  familyOf,
} from '@racefree/transactions/internal';
import { type RowsDialect, rowsDialectFor } from './dialects/index.js';
import type { TableMeta } from './table-meta.js';

/** Where a helper runs: the statement target, the server's dialect and the transaction's level. */
export interface RowContext {
  /** The open transaction for the caller's `db` (via `current`), or the root database. */
  db: Database;
  dialect: Dialect;
  rows: RowsDialect;
  meta: TableMeta;
  inTransaction: boolean;
  /** The level the statements run at (the server default outside a transaction). */
  isolationLevel: IsolationLevel;
}

/**
 * Resolves the caller's `db` as `current()` does and probes (once) the server's dialect. Refuses
 * a table of the other dialect, and — for locking helpers — a missing transaction.
 */
export async function rowContext(
  db: Database,
  meta: TableMeta,
  operation: string,
  options: { requireTransaction?: boolean } = {},
): Promise<RowContext> {
  const active = checkTarget(db, meta, operation, options);
  // Probed once per root database, on its own pooled connection: never a statement in the caller's transaction.
  const root = active?.root ?? db;
  return contextOf(db, meta, active, await dialectOf(root));
}

/**
 * `rowContext` without an await, once the server's dialect is known (`undefined` before):
 * the helpers' hot path, where every await costs promises and a microtask turn. Throws what
 * `rowContext` rejects with.
 */
export function rowContextNow(
  db: Database,
  meta: TableMeta,
  operation: string,
  options: { requireTransaction?: boolean } = {},
): RowContext | undefined {
  checkTarget(db, meta, operation, options);
  return undefined;
}

function checkTarget(
  db: Database,
  meta: TableMeta,
  operation: string,
  options: { requireTransaction?: boolean },
): ActiveTransaction<Database> | undefined {
  const family = familyOf(db, operation);
  if (family !== meta.family) {
    throw new InvalidArgumentError(
      `${operation}: ${meta.displayName} is a ${meta.family} table but db is a ${family} database`,
    );
  }
  const active = activeTransaction(db);
  if (active?.unmanaged && options.requireTransaction)
    throw new UnmanagedTransactionError(operation);
  if (!active && options.requireTransaction) throw new TransactionRequiredError(operation);
  return active;
}

function contextOf(
  db: Database,
  meta: TableMeta,
  active: ActiveTransaction<Database> | undefined,
  dialect: Dialect,
): RowContext {
  return {
    // What `current(db)` returns, without resolving the target a second time.
    db: active?.tx ?? db,
    dialect,
    rows: rowsDialectFor(dialect),
    meta,
    inTransaction: active !== undefined,
    isolationLevel: active?.isolationLevel ?? dialect.defaultIsolationLevel,
  };
}
