import {
  atomic,
  classifyError,
  type Database,
  dialectOf,
  executeStatement,
  InvalidArgumentError,
} from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { NotFoundError, SoldOutError } from './errors.js';
import { requireCustomer } from './require-customer.js';
import { requireId } from './require-id.js';
import { BOOK_COLUMNS, findBook, selectBooks } from './select-books.js';
import {
  PURCHASE_STRATEGIES,
  type Purchase,
  type PurchaseInput,
  type PurchaseStrategy,
} from './types.js';

/**
 * Sells one copy of a book to a customer: takes one off the stock and writes an order, both or
 * neither. Runs in `atomic(db, …)`, so inside a surrounding transaction (a request under
 * `atomicRequests`, another `atomic` block) it becomes a savepoint of it.
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
function readModifyWrite(db: Database, bookId: number, customerId: number, lockClause: string) {
  return atomic(db, async (tx) => {
    await requireCustomer(tx, customerId);
    const [book] = await selectBooks(
      tx,
      sql`select ${BOOK_COLUMNS} from books where id = ${bookId}${sql.raw(lockClause)}`,
    );
    if (book === undefined) throw new NotFoundError('book', bookId);
    if (book.quantity < 1) throw new SoldOutError(bookId);
    await executeStatement(
      tx,
      sql`update books set quantity = ${book.quantity - 1} where id = ${bookId}`,
    );
    return insertOrder(tx, bookId, customerId);
  });
}

const STRATEGIES: Record<PurchaseStrategy, Strategy> = {
  /** Read, then write the value computed from the read: the lost-update bug, kept to show it. */
  naive: (db, bookId, customerId) => readModifyWrite(db, bookId, customerId, ''),

  /** The same read-modify-write, made safe by locking the row for the read. */
  async lock(db, bookId, customerId) {
    // Probed before the transaction opens (cached afterwards): never wait for a second pooled
    // connection while holding a row lock.
    const lock = (await dialectOf(db)).lockClause('update');
    return readModifyWrite(db, bookId, customerId, lock);
  },

  /** One conditional UPDATE: the check and the decrement happen on the current row at once. */
  async atomic(db, bookId, customerId) {
    return atomic(db, async (tx) => {
      await requireCustomer(tx, customerId);
      // The database evaluates `quantity > 0` and `quantity - 1` on the row as it is when the
      // row lock is granted, so concurrent buyers queue on the lock and each sees the previous
      // buyer's result: no lost update, and never below zero.
      const sold = await executeStatement(
        tx,
        sql`update books set quantity = quantity - 1 where id = ${bookId} and quantity > 0`,
      );
      if (sold === 0) {
        // Nothing changed: either there is no such book or no copy is left. Tell them apart.
        if ((await findBook(tx, bookId)) === undefined) throw new NotFoundError('book', bookId);
        throw new SoldOutError(bookId);
      }
      return insertOrder(tx, bookId, customerId);
    });
  },
};

async function insertOrder(tx: Database, bookId: number, customerId: number): Promise<number> {
  try {
    return await bookstoreDialectOf(tx).insertReturningId(
      tx,
      sql`insert into orders (book_id, customer_id) values (${bookId}, ${customerId})`,
    );
  } catch (error) {
    // The customer was deleted after requireCustomer looked: the foreign key refused the order.
    if (classifyError(error).kind === 'foreign_key_violation')
      throw new NotFoundError('customer', customerId, { cause: error });
    throw error;
  }
}
