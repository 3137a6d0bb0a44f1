import {
  atomic,
  classifyError,
  current,
  type Database,
  InvalidArgumentError,
} from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { customerExists, type Sale } from './dialects/sale.js';
import { NotFoundError, SoldOutError } from './errors.js';
import { requireId } from './require-id.js';
import { BOOK_COLUMNS, selectBooks } from './select-books.js';
import {
  PURCHASE_STRATEGIES,
  type Purchase,
  type PurchaseInput,
  type PurchaseStrategy,
} from './types.js';

/**
 * Sells one copy of a book to a customer: takes one off the stock and writes an order, both or
 * neither. Inside a surrounding transaction (a request under `atomicRequests`, another `atomic`
 * block) it joins it and rolls back with it: `lock` and `naive` run in `atomic` (a savepoint
 * there); `atomic` is one statement on PostgreSQL (nothing to undo on its own) and a savepoint
 * on MySQL/MariaDB.
 *
 * `strategy` picks how the stock count is protected from concurrent buyers:
 * - `'atomic'` (use this): `UPDATE books SET quantity = quantity - 1 WHERE id = ? AND
 *   quantity > 0` — one statement the database applies to the current row; no update is lost
 *   and the stock never goes below zero.
 * - `'lock'`: `SELECT … FOR UPDATE`, check, write back: a second buyer waits for the first to
 *   commit, then reads the new quantity. Correct, but holds the row lock longer.
 * - `'naive'`: the same read-modify-write *without* the lock. **It loses updates**: two buyers
 *   who read 10 both write 9 and both get an order. Kept only to demonstrate the race — being
 *   inside a transaction does not save it at the default isolation levels.
 *
 * @throws SoldOutError (`SOLD_OUT`) when no copy is left; nothing is written.
 * @throws NotFoundError (`NOT_FOUND`) for an unknown book or customer; nothing is written.
 * @throws InvalidArgumentError for a bad id or strategy, before any SQL is sent.
 * @example
 * try {
 *   const { orderId } = await purchase(db, { bookId: 1, customerId: 7, strategy: 'atomic' });
 * } catch (error) {
 *   if (error instanceof SoldOutError) return c.json({ error: error.message }, 409);
 *   throw error;
 * }
 */
export async function purchase(db: Database, input: PurchaseInput): Promise<Purchase> {
  const bookId = requireId(input?.bookId, 'bookId');
  const customerId = requireId(input?.customerId, 'customerId');
  const strategy = input.strategy;
  if (!PURCHASE_STRATEGIES.includes(strategy)) {
    throw new InvalidArgumentError(
      `strategy must be one of ${PURCHASE_STRATEGIES.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(strategy)}`,
    );
  }
  const orderId = await STRATEGIES[strategy](db, bookId, customerId);
  return { orderId, bookId, customerId, strategy };
}

type Strategy = (db: Database, bookId: number, customerId: number) => Promise<number>;

/**
 * Read the quantity, then write back the value computed from it. Without a lock clause this is
 * the lost-update bug, on purpose: between the read and the write other buyers may have bought
 * copies, and the write overwrites their updates with a value computed from a stale read (at
 * READ COMMITTED the UPDATE waits for their row lock, then overwrites their commit; at MySQL's
 * REPEATABLE READ the read even comes from an older snapshot). With `FOR UPDATE` a concurrent
 * buyer blocks on the read until this transaction ends and then reads the quantity this one
 * wrote (a locking read sees the latest committed row, even under REPEATABLE READ), so the
 * write can never overwrite another sale.
 */
function readModifyWrite(db: Database, bookId: number, customerId: number, lock: boolean) {
  return atomic(db, async (tx) => {
    // `FOR UPDATE` is spelt alike on PostgreSQL, MySQL and MariaDB.
    const [book] = await selectBooks(
      tx,
      sql`select ${BOOK_COLUMNS} from books where id = ${bookId}${customerExists(customerId)}${lock ? sql` for update` : sql``}`,
    );
    if (book === undefined) return explainUnsold(tx, bookId, customerId);
    if (book.quantity < 1) throw new SoldOutError(bookId);
    // This block undoes the sale if it fails: no savepoint of its own after the row lock.
    const orderId = await writeSale(
      tx,
      { bookId, customerId, newQuantity: book.quantity - 1 },
      { inUnit: true },
    );
    // The row was read (and, with the lock, is held) by this transaction: it cannot be gone.
    if (orderId === undefined) throw new Error(`book ${bookId} vanished during the purchase`);
    return orderId;
  });
}

const STRATEGIES: Record<PurchaseStrategy, Strategy> = {
  /** Read, then write the value computed from the read: the lost-update bug, kept to show it. */
  naive: (db, bookId, customerId) => readModifyWrite(db, bookId, customerId, false),

  /** The same read-modify-write, made safe by locking the row for the read. */
  lock: (db, bookId, customerId) => readModifyWrite(db, bookId, customerId, true),

  /**
   * One conditional UPDATE: the check and the decrement happen on the current row at once. The
   * database evaluates `quantity > 0` and `quantity - 1` on the row as it is when the row lock
   * is granted, so concurrent buyers queue on the lock and each sees the previous buyer's
   * result: no lost update, and never below zero. On PostgreSQL the sale is one statement.
   */
  async atomic(db, bookId, customerId) {
    // Joins the transaction `atomic` has open for `db`, if any: the sale rolls back with it.
    const target = current(db);
    const orderId = await writeSale(target, { bookId, customerId });
    return orderId ?? explainUnsold(target, bookId, customerId);
  },
};

/** The dialect's `writeSale`, with the order's foreign-key refusal told as a missing customer. */
async function writeSale(
  db: Database,
  sale: Sale,
  options?: { inUnit?: boolean },
): Promise<number | undefined> {
  try {
    return await bookstoreDialectOf(db).writeSale(db, sale, options);
  } catch (error) {
    // The customer was deleted between the check and the INSERT: the foreign key refused it.
    if (classifyError(error).kind === 'foreign_key_violation')
      throw new NotFoundError('customer', sale.customerId, { cause: error });
    throw error;
  }
}

/**
 * Nothing was sold: says why, in the order a buyer should hear it — unknown customer, unknown
 * book, no copy left. Only failed purchases pay for this query.
 */
async function explainUnsold(db: Database, bookId: number, customerId: number): Promise<never> {
  const [found] = await bookstoreDialectOf(db).rows<{ customer: unknown; book: unknown }>(
    db,
    sql`select exists (select 1 from customers where id = ${customerId}) as customer, exists (select 1 from books where id = ${bookId}) as book`,
  );
  // PostgreSQL answers booleans, MySQL 0/1.
  if (!Number(found?.customer)) throw new NotFoundError('customer', customerId);
  if (!Number(found?.book)) throw new NotFoundError('book', bookId);
  throw new SoldOutError(bookId);
}
