import { current, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { BOOK_COLUMNS, selectBooks } from './select-books.js';
import type { Book } from './types.js';

/**
 * Every book with its current stock, by id. Reads through `current(db)`, so inside a
 * transaction it sees that transaction's own uncommitted changes.
 *
 * @example
 * for (const book of await listBooks(db)) console.log(book.title, book.quantity);
 */
export async function listBooks(db: Database): Promise<Book[]> {
  return selectBooks(current(db), sql`select ${BOOK_COLUMNS} from books order by id`);
}
