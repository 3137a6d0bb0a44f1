import { type Database, InvalidArgumentError, type LockMode } from '@racefree/transactions';
import { and, type SQL } from 'drizzle-orm';
import { anyOf, matching } from './conditions.js';
import { type RowContext, rowContext } from './context.js';
import type { Row } from './dialects/rows-dialect.js';
import type { RowOf, WhereOf } from './get-or-create.js';
import { checkOptions, checkValues } from './input.js';
import { keyIdentity } from './key-identity.js';
import { requirePrimaryKey } from './resolve-key.js';
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
  /** Wait at most this long for the locks (this call only; the previous setting is restored). Default: the server's setting. */
  timeoutMs?: number;
}

/** Primary-key values: scalars for a one-column key, objects for a composite one. */
export type KeyValues<T extends AnyTable> = ReadonlyArray<
  RowOf<T>[keyof RowOf<T>] | Partial<RowOf<T>>
>;

const OPTIONS = ['mode', 'noWait', 'skipLocked', 'timeoutMs'] as const;
const MAX_KEYS = 10_000;

/**
 * Locks rows until the transaction ends and returns them — given primary-key values (`[1, 2]`,
 * or objects for composite keys), in the order of those values, one entry per key found (a key
 * with no row is left out); given a `where` object, in primary-key order. Needs a transaction.
 *
 * Why it is safe: whatever order the caller names them in, every caller takes its locks in the
 * same global order (ascending primary key), so two callers locking overlapping sets queue
 * behind each other instead of each holding a row the other wants — the classic lock-ordering
 * deadlock cannot form. PostgreSQL sorts before it locks; on MySQL/MariaDB the lock is taken by
 * a primary-key scan, so a `where` lookup first resolves the keys without locking and then
 * locks by key — at REPEATABLE READ that first read answers from the transaction's snapshot, so
 * a matching row committed after it is not locked (and a row that no longer matches once locked
 * is left out); use READ COMMITTED when new rows must be caught. Options the server cannot do (SKIP LOCKED on MariaDB < 10.6, PostgreSQL-only
 * modes) raise `NotSupportedError` before any SQL.
 *
 * @example
 * await atomic(db, async (tx) => {
 *   const [from, to] = await lockRows(tx, accounts, [fromId, toId]); // whichever id is smaller
 *   await tx.update(accounts).set({ balance: from.balance - 10 }).where(eq(accounts.id, from.id));
 *   await tx.update(accounts).set({ balance: to.balance + 10 }).where(eq(accounts.id, to.id));
 * });
 */
export async function lockRows<T extends AnyTable>(
  db: Database,
  table: T,
  target: KeyValues<T> | WhereOf<T>,
  options: LockRowsOptions = {},
): Promise<RowOf<T>[]> {
  const meta = tableMeta(table);
  checkOptions(options, 'lockRows', OPTIONS, ['noWait', 'skipLocked']);
  const pk = requirePrimaryKey(meta, 'lockRows');
  const keyRows = Array.isArray(target) ? checkKeys(meta, pk.keys, target) : undefined;
  const where = keyRows ? undefined : checkValues(meta, target, 'where');
  const { timeoutMs } = options;
  if (
    timeoutMs !== undefined &&
    !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs > 0)
  )
    throw new InvalidArgumentError(
      `lockRows: timeoutMs must be a positive number of milliseconds, got ${String(timeoutMs)}`,
    );
  const ctx = await rowContext(db, meta, 'lockRows', { requireTransaction: true });
  const lock = {
    mode: options.mode ?? 'update',
    noWait: options.noWait,
    skipLocked: options.skipLocked,
  };
  // Refuses before any SQL what the server cannot do.
  ctx.dialect.lockClause(lock.mode, lock);
  if (keyRows?.length === 0) return [];
  const orderBy = pk.columns;

  const lockBy = async (c: RowContext, prefix: SQL | undefined): Promise<Row[]> => {
    if (keyRows)
      return c.rows.select(c, { where: anyOf(meta, pk.keys, keyRows), orderBy, lock, prefix });
    const condition = matching(meta, where ?? {}, Object.keys(where ?? {}));
    if (!c.rows.lockWhereByPrimaryKey)
      return c.rows.select(c, { where: condition, orderBy, lock, prefix });
    // Resolve the keys first, then lock through the primary key, in its order.
    const found = await c.rows.select(c, { where: condition, columns: pk.keys, orderBy });
    if (found.length === 0) return [];
    // A row may have changed while unlocked: the server keeps only those that still match.
    return c.rows.select(c, {
      where: and(anyOf(meta, pk.keys, found), condition) as SQL,
      orderBy,
      lock,
      prefix,
    });
  };
  const attempt = (c: RowContext) =>
    timeoutMs !== undefined
      ? c.rows.withLockTimeout(c, timeoutMs, (timed, prefix) => lockBy({ ...c, db: timed }, prefix))
      : lockBy(c, undefined);
  const rows = await withNoWait(ctx, options.noWait, attempt);
  if (!keyRows) return rows as RowOf<T>[];
  // A row the values do not name as JavaScript compares them (a uuid in capitals, a collation
  // that ignores case) is matched to its key by the server: a read of that key's primary key,
  // without a lock (only rows this call locked are returned).
  const unmatched = rows.length - matchedCount(meta, pk.keys, keyRows, rows);
  const byIdentity = new Map(rows.map((row) => [keyIdentity(meta, pk.keys, row), row]));
  const owner = async (keyRow: Row) => {
    if (unmatched === 0) return undefined;
    const where = matching(meta, keyRow, pk.keys);
    const [stored] = await ctx.rows.select(ctx, { where, columns: pk.keys, limit: 1 });
    return stored && byIdentity.get(keyIdentity(meta, pk.keys, stored));
  };
  return (await inKeyOrder(meta, pk.keys, keyRows, byIdentity, owner)) as RowOf<T>[];
}

/** How many distinct rows of `rows` one of `keyRows` names with equal values. */
function matchedCount(
  meta: TableMeta,
  keys: readonly string[],
  keyRows: readonly Row[],
  rows: readonly Row[],
): number {
  const asked = new Set(keyRows.map((keyRow) => keyIdentity(meta, keys, keyRow)));
  return rows.filter((row) => asked.has(keyIdentity(meta, keys, row))).length;
}

/**
 * The rows (by key identity) in the order `keyRows` names them: each row once, keys without a
 * row left out. A key no row holds with equal values asks `owner` for its row.
 */
async function inKeyOrder(
  meta: TableMeta,
  keys: readonly string[],
  keyRows: readonly Row[],
  byKey: ReadonlyMap<string, Row>,
  owner: (keyRow: Row) => Promise<Row | undefined>,
): Promise<Row[]> {
  const ordered: Row[] = [];
  const seen = new Set<string>();
  for (const keyRow of keyRows) {
    const row = byKey.get(keyIdentity(meta, keys, keyRow)) ?? (await owner(keyRow));
    if (!row) continue;
    const id = keyIdentity(meta, keys, row);
    if (seen.has(id)) continue;
    seen.add(id);
    ordered.push(row);
  }
  return ordered;
}

function checkKeys(meta: TableMeta, pkKeys: string[], keys: readonly unknown[]): Row[] {
  if (keys.length > MAX_KEYS)
    throw new InvalidArgumentError(
      `lockRows: ${keys.length} keys in one call; lock in batches of at most ${MAX_KEYS}`,
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
