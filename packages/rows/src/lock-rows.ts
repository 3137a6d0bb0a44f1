import { type Database, InvalidArgumentError, type LockMode } from '@racefree/transactions';
import { and, type SQL } from 'drizzle-orm';
import { anyOf, matching } from './conditions.js';
import { type RowContext, rowContext } from './context.js';
import type { Row, RowLock } from './dialects/rows-dialect.js';
import type { RowOf, WhereOf } from './get-or-create.js';
import { checkOptions, checkValues } from './input.js';
import { keyIdentity, likeliestFirst } from './key-identity.js';
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
  return (await inKeyOrder(ctx, pk.keys, keyRows, rows, lock)) as RowOf<T>[];
}

/**
 * The locked `rows` in the order `keyRows` names them: each row once, at the first key naming
 * it with equal values; keys without a row left out. A row no key names that way is stored in
 * another spelling the server holds equal (a uuid in capitals, a collation that ignores case):
 * the server says which key it belongs to, key by key — the likeliest spellings first — until
 * every such row has its key. Those reads take the lock the rows hold already: they cannot wait,
 * and at REPEATABLE READ they see the rows' latest version, as the lock did.
 */
async function inKeyOrder(
  ctx: RowContext,
  keys: readonly string[],
  keyRows: readonly Row[],
  rows: readonly Row[],
  lock: RowLock,
): Promise<Row[]> {
  const { meta } = ctx;
  const byIdentity = new Map(rows.map((row) => [keyIdentity(meta, keys, row), row]));
  const unclaimed = new Set(byIdentity.keys());
  for (const keyRow of keyRows) unclaimed.delete(keyIdentity(meta, keys, keyRow));
  const owners = new Map<Row, Row>();
  if (unclaimed.size > 0) {
    const unnamed = likeliestFirst(
      meta,
      keys,
      [...unclaimed].map((id) => byIdentity.get(id) as Row),
      keyRows.filter((keyRow) => !byIdentity.has(keyIdentity(meta, keys, keyRow))),
      (keyRow) => keyRow,
    );
    for (const keyRow of unnamed) {
      if (unclaimed.size === 0) break;
      const where = matching(meta, keyRow, keys);
      const [stored] = await ctx.rows.select(ctx, { where, columns: keys, lock, limit: 1 });
      const id = stored && keyIdentity(meta, keys, stored);
      if (id === undefined || !unclaimed.has(id)) continue;
      owners.set(keyRow, byIdentity.get(id) as Row);
      unclaimed.delete(id);
    }
  }
  const ordered: Row[] = [];
  const seen = new Set<Row>();
  for (const keyRow of keyRows) {
    const row = byIdentity.get(keyIdentity(meta, keys, keyRow)) ?? owners.get(keyRow);
    if (!row || seen.has(row)) continue;
    seen.add(row);
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
