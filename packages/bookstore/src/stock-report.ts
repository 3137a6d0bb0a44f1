import { atomic, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { NotFoundError } from './errors.js';
import { requireId } from './require-id.js';
import type { StockReport } from './types.js';

/**
 * A book's stock next to the number of orders written for it, read in one transaction so the
 * two numbers belong together. If the book started with `s` copies and was never restocked,
 * `s − quantity − orders` is 0 for a correct purchase strategy; a negative value counts lost
 * updates (copies sold whose decrement was overwritten).
 *
 * @throws NotFoundError (`NOT_FOUND`) for an unknown book.
 * @example
 * const { quantity, orders } = await stockReport(db, bookId);
 * const lostUpdates = orders - (initialStock - quantity);
 */
export async function stockReport(db: Database, bookId: number): Promise<StockReport> {
  requireId(bookId, 'bookId');
  return atomic(db, async (tx) => {
    // One statement, so both numbers come from one snapshot on every isolation level.
    const [row] = await bookstoreDialectOf(tx).rows<{ quantity: number; orders: number | string }>(
      tx,
      sql`select b.quantity as quantity, (select count(*) from orders o where o.book_id = b.id) as orders
          from books b where b.id = ${bookId}`,
    );
    if (row === undefined) throw new NotFoundError('book', bookId);
    // COUNT(*) is a bigint: postgres.js returns it as a string.
    return { bookId, quantity: Number(row.quantity), orders: Number(row.orders) };
  });
}
