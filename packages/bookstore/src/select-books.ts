import type { Database } from '@racefree/transactions';
import { type SQL, sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import type { Book } from './types.js';

// The services write their SQL by hand, once for both databases: for a demo about races the
// statement *is* the point (compare `naive` and `lock` in purchase.ts), and plain SQL over
// snake_case columns reads the same on PostgreSQL and MySQL.

/** A books row as both drivers return it. */
interface BookRow {
  id: number;
  isbn: string;
  title: string;
  price_cents: number;
  quantity: number;
}

/** The columns of `Book`, for a SELECT. */
export const BOOK_COLUMNS = sql.raw('id, isbn, title, price_cents, quantity');

/** Runs a SELECT of `BOOK_COLUMNS` on `db` as given and maps the rows to `Book`s. */
export async function selectBooks(db: Database, query: SQL): Promise<Book[]> {
  const rows = await bookstoreDialectOf(db).rows<BookRow>(db, query);
  return rows.map((row) => ({
    id: Number(row.id),
    isbn: row.isbn,
    title: row.title,
    priceCents: Number(row.price_cents),
    quantity: Number(row.quantity),
  }));
}

/** The book with this id as `db` sees it now, or `undefined`. */
export async function findBook(db: Database, bookId: number): Promise<Book | undefined> {
  const [book] = await selectBooks(db, sql`select ${BOOK_COLUMNS} from books where id = ${bookId}`);
  return book;
}
