import {
  atomic,
  type Database,
  InvalidArgumentError,
  SnapshotConflictError,
} from '@racefree/transactions';
import { matching } from './conditions.js';
import { containedContext, type RowContext, rowContext } from './context.js';
import type { Row, RowLock } from './dialects/rows-dialect.js';
import type { InsertOf, RowOf, WhereOf } from './get-or-create.js';
import { checkOptions, checkValues } from './input.js';
import type { RowResult } from './insert-or-read-winner.js';
import { compareKeys, keyIdentity, likeliestFirst } from './key-identity.js';
import { retryOutsideTransaction } from './retry-outside-transaction.js';
import { type AnyTable, type TableMeta, tableMeta, type UniqueKey } from './table-meta.js';

/** Options of `getOrCreateMany`. */
export interface GetOrCreateManyOptions<T extends AnyTable> {
  /**
   * The rows to find or create, each naming exactly the columns of one unique key (the same
   * key for every item), with non-null values. Results come back in this order.
   */
  where: ReadonlyArray<WhereOf<T>>;
  /**
   * Values for the columns the key does not name, for rows that are inserted: an object, or a
   * function of the item's `where`, called at most once per distinct key, only for keys an insert
   * is tried for — on PostgreSQL every key of a batch (the insert goes first), on MySQL/MariaDB
   * the keys a first read did not find. The item's `where` wins on the columns both name.
   */
  defaults?:
    | Partial<InsertOf<T>>
    | ((where: WhereOf<T>) => Partial<InsertOf<T>> | Promise<Partial<InsertOf<T>>>);
}

const OPTIONS = ['where', 'defaults'] as const;
/**
 * Parameters per statement at most: under PostgreSQL's protocol limit (65,535, and postgres.js
 * refuses 65,534 already) and MySQL's prepared-statement limit (65,535), with room to spare.
 */
const MAX_PARAMETERS = 60_000;
/** Rows per statement at most, whatever the parameters allow: bounded statements and lock sets. */
const MAX_BATCH_ROWS = 1000;
/** How many rounds in a row may settle nothing (rows deleted under the call) before it gives up. */
const ROUNDS = 3;

/** One distinct key asked for, and where its result goes. */
interface Wanted {
  identity: string;
  where: Row;
  /** The positions in `where` that asked for this key. */
  positions: number[];
}

/**
 * Finds or creates many rows at once — `[{ row, created }, …]` in the order of `where` — in a
 * few statements per batch instead of one call per row. Items that name one row share it (equal
 * values, or values the server's comparison makes equal: a case-insensitive collation, a uuid in
 * capitals), and only the first of them says `created: true`; `created` is true exactly for the
 * rows this call inserted. An empty list answers `[]` without any SQL.
 *
 * Why it is safe: the unique key decides every race, as in `getOrCreate`. Keys are inserted in
 * one global order (sorted), so two calls with overlapping keys wait for each other instead of
 * deadlocking; a taken key is reported, never thrown (PostgreSQL `ON CONFLICT (key) DO NOTHING`;
 * on InnoDB, where one duplicate fails the whole INSERT, what exists is read first and a lost
 * race is read again with a locking read). A failure of any other constraint is thrown as it is;
 * inside your transaction the whole call runs in one savepoint, so that failure takes this
 * call's rows with it and leaves your transaction usable. Batches stay under the servers'
 * bind-parameter limit. Outside a transaction each statement commits on its own and is re-run on
 * a deadlock (MariaDB's compound statement is a transaction of its own: all of a batch's rows,
 * or none); inside one, errors propagate to `atomic({ retries })`.
 *
 * Statements per batch of n keys, m of them missing: PostgreSQL 1 (INSERT … ON CONFLICT DO
 * NOTHING RETURNING), plus one read when some keys were taken; MariaDB 1 read of what exists,
 * then — when m > 0 — one compound statement holding the m INSERTs and the read of their rows
 * (outside a transaction, a transaction of its own); MySQL 1 read, then one INSERT per missing
 * key and one read of the rows written (a key another caller took meanwhile: one locking read
 * of it). Inside your transaction, a savepoint around the call adds 2; a row stored in another
 * spelling than asked, 1 read.
 *
 * @example
 * const tagged = await getOrCreateMany(db, tags, { where: names.map((name) => ({ name })) });
 */
export async function getOrCreateMany<T extends AnyTable>(
  db: Database,
  table: T,
  options: GetOrCreateManyOptions<T>,
): Promise<RowResult<RowOf<T>>[]> {
  const meta = tableMeta(table);
  checkOptions(options, 'getOrCreateMany', OPTIONS);
  const defaults = options.defaults;
  if (defaults !== undefined && typeof defaults !== 'function')
    checkValues(meta, defaults, 'defaults', { allowEmpty: true });
  const { key, wanted, count } = checkItems(meta, options.where);
  if (count === 0) return [];
  const valuesOf = createValuesOf(meta, defaults);
  const compare = compareKeys(meta, key);
  const ordered = [...wanted.values()].sort((a, b) => compare(a.where, b.where));
  const run = async (ctx: RowContext) => {
    const found: Found = { rows: new Map(), inserted: new Set() };
    for (const batch of batches(meta, ordered))
      await findOrCreateBatch(ctx, key, batch, valuesOf, found);
    return answers(meta, key, wanted, count, found) as RowResult<RowOf<T>>[];
  };
  const ctx = await rowContext(db, meta, 'getOrCreateMany');
  if (!ctx.callerTransaction) return run(ctx);
  // In the caller's transaction, the whole call in one savepoint: a failure in a later batch (or
  // row, on InnoDB) takes the rows this call had already written with it, and leaves the
  // transaction usable — all or nothing, as the call reads.
  return atomic(ctx.db, (savepoint) => run(containedContext(ctx, savepoint)));
}

/** What the batches settled: each distinct key's row, and which rows this call inserted. */
interface Found {
  rows: Map<Wanted, Row>;
  /** The rows this call inserted, by the key identity of the values the server returned. */
  inserted: Set<string>;
}

/**
 * The results in the order asked. `created` is true for the first item (by position) of each
 * row this call inserted: items whose values differ yet name one row as the server compares
 * them (a case-insensitive collation, a uuid's letter case) share its one `created`.
 */
function answers(
  meta: TableMeta,
  key: UniqueKey,
  wanted: Map<string, Wanted>,
  count: number,
  found: Found,
): RowResult<Row>[] {
  const rowAt = new Array<Row>(count);
  for (const item of wanted.values()) {
    const row = found.rows.get(item) as Row;
    for (const position of item.positions) rowAt[position] = row;
  }
  const claimed = new Set<string>();
  return rowAt.map((row) => {
    const identity = keyIdentity(meta, key.keys, row);
    const created = found.inserted.has(identity) && !claimed.has(identity);
    if (created) claimed.add(identity);
    return { row, created };
  });
}

/**
 * One batch: the missing keys inserted (in key order), the others read. Every round that does
 * not finish the batch has still settled keys — a key another caller took is found by the next
 * read — so the rounds end; only a row deleted and re-created under the call can stall them.
 */
async function findOrCreateBatch(
  ctx: RowContext,
  key: UniqueKey,
  batch: readonly Wanted[],
  valuesOf: (where: Row) => Promise<Row>,
  found: Found,
): Promise<void> {
  const pending = new Set(batch);
  const take = (item: Wanted, row: Row) => {
    found.rows.set(item, row);
    pending.delete(item);
  };
  /**
   * Settles the pending keys `rows` hold. Rows come back as the server stores them, matched to
   * keys by their values; a row no pending key matches that way is stored in another spelling
   * the server holds equal (a case-insensitive collation), and the server is asked key by key —
   * the likeliest spellings first — until every such row has its key.
   */
  const settle = async (rows: readonly Row[], lock: RowLock | undefined) => {
    const unclaimed = new Map(rows.map((row) => [keyIdentity(ctx.meta, key.keys, row), row]));
    for (const item of [...pending]) {
      const row = unclaimed.get(item.identity);
      if (!row) continue;
      take(item, row);
      unclaimed.delete(item.identity);
    }
    if (unclaimed.size === 0) return;
    const candidates = likeliestFirst(
      ctx.meta,
      key.keys,
      unclaimed.values(),
      [...pending],
      (item) => item.where,
    );
    for (const item of candidates) {
      if (unclaimed.size === 0) return;
      const where = matching(ctx.meta, item.where, key.keys);
      const [row] = await statement(ctx, () => ctx.rows.select(ctx, { where, lock, limit: 1 }));
      if (!row) continue;
      take(item, row);
      unclaimed.delete(keyIdentity(ctx.meta, key.keys, row));
    }
  };
  let read = !ctx.rows.insertsManyFirst;
  let lostRace = false;
  let takenError: unknown;
  for (let stalls = 0; stalls < ROUNDS; ) {
    if (read) {
      // After a lost race, the locking read the dialect needs to see a row committed after
      // this transaction's snapshot (MySQL at REPEATABLE READ).
      const lock = lostRace ? ctx.rows.conflictReadLock : undefined;
      const wanted = [...pending].map((item) => item.where);
      const before = pending.size;
      await settle(await statement(ctx, () => ctx.rows.selectByKeys(ctx, key, wanted, lock)), lock);
      if (pending.size === 0) return;
      if (lostRace && pending.size === before) {
        // The server named no key racefree knows, and no row with ours turned up: not ours.
        if (takenError !== undefined) throw takenError;
        if (ctx.rows.snapshotHidesCommits(ctx.isolationLevel))
          throw new SnapshotConflictError(
            `${ctx.meta.displayName}: another transaction committed rows with these keys after this transaction's snapshot was taken (${ctx.isolationLevel}); re-run the whole transaction (atomic(db, fn, { retries })).`,
          );
        stalls += 1; // taken, yet gone: deleted meanwhile
      }
    }
    const asked = [...pending];
    const values = await Promise.all(asked.map((item) => valuesOf(item.where)));
    const outcome = await ctx.rows.insertMany(ctx, values, key, (run) => statement(ctx, run));
    for (const [index, row] of outcome.found ?? []) take(asked[index] as Wanted, row);
    for (const row of outcome.rows) found.inserted.add(keyIdentity(ctx.meta, key.keys, row));
    await settle(outcome.rows, ctx.rows.conflictReadLock);
    if (pending.size === 0) return;
    takenError = outcome.unknownConflict;
    read = true;
    lostRace = true;
  }
  throw new SnapshotConflictError(
    `${ctx.meta.displayName}: rows with these keys were deleted and re-created ${ROUNDS} times while getOrCreateMany ran; re-run it.`,
  );
}

/**
 * One statement of the call. Outside a transaction each commits on its own, so one that failed
 * on a deadlock wrote nothing and is re-run alone — re-running the whole call would report rows
 * an earlier batch created as found.
 */
function statement<R>(ctx: RowContext, run: () => Promise<R>): Promise<R> {
  return retryOutsideTransaction(ctx, run);
}

/**
 * Checks every item before any SQL: a plain object naming exactly the columns of one unique
 * key, the same key for all, with non-null values. Returns the key, the distinct keys asked for
 * (by identity, in first-asked order) and the number of items.
 */
function checkItems(
  meta: TableMeta,
  items: unknown,
): { key: UniqueKey; wanted: Map<string, Wanted>; count: number } {
  if (!Array.isArray(items))
    throw new InvalidArgumentError(
      `getOrCreateMany: where must be an array of key values for ${meta.displayName}`,
    );
  const wanted = new Map<string, Wanted>();
  let key: UniqueKey | undefined;
  items.forEach((item, position) => {
    const what = `where[${position}]`;
    const where = checkValues(meta, item, what);
    const names = Object.keys(where);
    const itemKey = meta.uniqueKeys.find(
      (candidate) =>
        candidate.keys.length === names.length && candidate.keys.every((k) => names.includes(k)),
    );
    if (!itemKey)
      throw new InvalidArgumentError(
        `getOrCreateMany: ${what} names (${names.join(', ')}), which is not exactly the columns of a unique key of ${meta.displayName} (its unique keys: ${meta.uniqueKeys.map((k) => `(${k.keys.join(', ')})`).join(', ') || 'none'}); other columns go in defaults`,
      );
    if (key && itemKey !== key)
      throw new InvalidArgumentError(
        `getOrCreateMany: ${what} names the key (${itemKey.keys.join(', ')}), but where[0] names (${key.keys.join(', ')}): every item must name the same key`,
      );
    key = itemKey;
    for (const k of names)
      if (where[k] === null)
        throw new InvalidArgumentError(`getOrCreateMany: ${what}.${k} is null; a key has values`);
    const identity = keyIdentity(meta, itemKey.keys, where);
    const seen = wanted.get(identity);
    if (seen) seen.positions.push(position);
    else wanted.set(identity, { identity, where, positions: [position] });
  });
  return { key: key as UniqueKey, wanted, count: items.length };
}

/**
 * The values each inserted key gets: `defaults` (a function called once per key, and only for
 * keys an insert is tried for), then the key's own `where`, which wins.
 */
function createValuesOf(meta: TableMeta, defaults: unknown): (where: Row) => Promise<Row> {
  const resolved = new Map<Row, Promise<Row>>();
  return (where) => {
    let values = resolved.get(where);
    if (!values) {
      values = (async () => {
        const given =
          typeof defaults === 'function'
            ? await (defaults as (where: Row) => unknown)({ ...where })
            : (defaults ?? {});
        return Object.assign(checkValues(meta, given, 'defaults', { allowEmpty: true }), where);
      })();
      resolved.set(where, values);
    }
    return values;
  };
}

/** Splits the keys so each statement's parameters stay under the servers' limit. */
function* batches(meta: TableMeta, items: readonly Wanted[]): Generator<Wanted[]> {
  // An INSERT row binds at most one parameter per column; a read binds one per key column.
  const perRow = Math.max(1, meta.columnList.length);
  const size = Math.max(1, Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / perRow)));
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
