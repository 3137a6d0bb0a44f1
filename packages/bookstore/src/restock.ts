import { atomic, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { NotFoundError } from './errors.js';
import { requireCount, requireId } from './require-id.js';
import { findBook } from './select-books.js';
import type { Book } from './types.js';

/**
 * Adds `copies` to a book's stock and returns the book as it is afterwards. The addition is
 * one `UPDATE … SET quantity = quantity + n`, so restocks racing with purchases never lose
 * either side's change. Joins a surrounding transaction (as a savepoint) when there is one.
 *
 * @throws NotFoundError (`NOT_FOUND`) for an unknown book; nothing is written.
 * @throws InvalidArgumentError when `copies` is not a whole number ≥ 1, before any SQL is sent.
 * @example
 * const book = await restock(db, 1, 25); // book.quantity includes the 25 new copies
 */
export async function restock(db: Database, bookId: number, copies: number): Promise<Book> {
  requireId(bookId, 'bookId');
  requireCount(copies, 'copies', 1);
  return atomic(db, async (tx) => {
    const changed = await bookstoreDialectOf(tx).changed(
      tx,
      sql`update books set quantity = quantity + ${copies} where id = ${bookId}`,
    );
    // Read back in the same transaction: it sees this update, under its row lock.
    const book = changed === 0 ? undefined : await findBook(tx, bookId);
    if (book === undefined) throw new NotFoundError('book', bookId);
    return book;
  });
}
