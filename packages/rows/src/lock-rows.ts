import { type Database, InvalidArgumentError, type LockMode } from '@racefree/transactions';
import type { SQL } from 'drizzle-orm';
import { type RowContext, rowContext } from './context.js';
import type { RowOf, WhereOf } from './get-or-create.js';
import { checkValues } from './input.js';
import { requirePrimaryKey } from './resolve-key.js';
import { anyOfKeys, equalsAll, orderByKey, selectRows } from './row-sql.js';
import { type AnyTable, type TableMeta, tableMeta } from './table-meta.js';
import { withNoWait } from './with-no-wait.js';

/** Options of `lockRows`. */
export interface LockRowsOptions {
  /** `'update'` (default), `'share'`; on PostgreSQL also `'no key update'` and `'key share'`. */
  mode?: LockMode;
  /** Fail at once with `LockNotAvailableError` (never retried) if a row is held. Default `false`. */
  noWait?: boolean;
  /** Leave out rows held by other transactions instead of waiting. Default `false`. */
  skipLocked?: boolean;
  /** Wait at most this long for the locks (this call only; the previous setting is restored). */
  timeoutMs?: number;
}

/** Primary-key values: scalars for a one-column key, objects for a composite one. */
export type KeyValues<T extends AnyTable> = ReadonlyArray<
  RowOf<T>[keyof RowOf<T>] | Partial<RowOf<T>>
>;

/**
 * Locks rows until the transaction ends and returns them, in primary-key order — by primary-key
 * values (`[1, 2, 3]`, or objects for composite keys) or by a `where` object. Needs a
 * transaction.
 *
 * Why it is safe: every caller takes its locks in the same global order (ascending primary
 * key), so two callers locking overlapping sets queue behind each other instead of each
 * holding a row the other wants — the classic lock-ordering deadlock cannot form. PostgreSQL
 * sorts before it locks; on MySQL/MariaDB the lock is taken by a primary-key range scan, so a
 * `where` lookup first resolves the keys without locking and then locks by key.
 * Options the server cannot do (SKIP LOCKED on MariaDB < 10.6, PostgreSQL-only modes) raise
 * `NotSupportedError` before any SQL.
 *
 * @example
 * await atomic(db, async (tx) => {
 *   const [from, to] = await lockRows(tx, accounts, [fromId, toId].sort());
 *   …
 * });
 */
export async function lockRows<T extends AnyTable>(
  db: Database,
  table: T,
  target: KeyValues<T> | WhereOf<T>,
  options: LockRowsOptions = {},
): Promise<RowOf<T>[]> {
  const meta = tableMeta(table);
  const pk = requirePrimaryKey(meta, 'lockRows');
  const byKeys = Array.isArray(target);
  const keyRows = byKeys ? checkKeys(meta, pk.keys, target) : undefined;
  const where = byKeys ? undefined : checkValues(meta, target, 'where');
  if (
    options.timeoutMs !== undefined &&
    !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)
  ) {
    throw new InvalidArgumentError(
      `lockRows: timeoutMs must be a positive number of milliseconds, got ${options.timeoutMs}`,
    );
  }
  const ctx = await rowContext(db, meta, 'lockRows', { requireTransaction: true });
  const lockClause = ctx.dialect.lockClause(options.mode ?? 'update', options);
  if (keyRows?.length === 0) return [];
  const order = orderByKey(meta, pk.keys);

  const lockBy = async (c: RowContext, prefix: SQL | undefined): Promise<RowOf<T>[]> => {
    let condition = keyRows
      ? anyOfKeys(meta, pk.keys, keyRows)
      : equalsAll(meta, where ?? {}, Object.keys(where ?? {}));
    if (!keyRows && c.rows.lockWhereByPrimaryKey) {
      // Resolve the keys first, then lock through the primary key, in its order.
      const found = await selectRows(c.db, meta, condition, { columns: pk.keys, order });
      if (found.length === 0) return [];
      condition = anyOfKeys(meta, pk.keys, found);
      const locked = await selectRows(c.db, meta, condition, { order, lockClause, prefix });
      // A row may have changed while unlocked: keep only those that still match.
      return locked.filter((row) =>
        Object.keys(where ?? {}).every((k) => sameScalar(row[k], where?.[k])),
      ) as RowOf<T>[];
    }
    return (await selectRows(c.db, meta, condition, { order, lockClause, prefix })) as RowOf<T>[];
  };

  const attempt = (c: RowContext) =>
    options.timeoutMs !== undefined
      ? c.rows.withLockTimeout(c, options.timeoutMs, (db2, prefix) =>
          lockBy({ ...c, db: db2 }, prefix),
        )
      : lockBy(c, undefined);
  return withNoWait(ctx, options.noWait, attempt);
}

function checkKeys(
  meta: TableMeta,
  pkKeys: string[],
  keys: readonly unknown[],
): Record<string, unknown>[] {
  if (keys.length > 10_000)
    throw new InvalidArgumentError(
      `lockRows: ${keys.length} keys in one call; lock in batches of at most 10000`,
    );
  return keys.map((value, index) => {
    if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      const row = checkValues(meta, value, `keys[${index}]`);
      for (const k of pkKeys)
        if (row[k] === undefined || row[k] === null)
          throw new InvalidArgumentError(`keys[${index}] lacks primary-key column ${k}`);
      return row;
    }
    if (pkKeys.length !== 1)
      throw new InvalidArgumentError(
        `lockRows: ${meta.displayName} has a composite primary key (${pkKeys.join(', ')}); pass objects`,
      );
    if (value === undefined || value === null)
      throw new InvalidArgumentError(`lockRows: keys[${index}] is ${value}`);
    return { [pkKeys[0] as string]: value };
  });
}

function sameScalar(a: unknown, b: unknown): boolean {
  return (
    a === b ||
    (a instanceof Date && b instanceof Date && a.getTime() === b.getTime()) ||
    String(a) === String(b)
  );
}
