import { atomic, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { BOOK_COLUMNS, selectBooks } from './select-books.js';
import type { Book, NewBook } from './types.js';

/** The catalogue `seed` creates: a handful of books about the problems this project solves. */
export const SEED_BOOKS: readonly NewBook[] = [
  {
    isbn: '978-0-13-468599-1',
    title: 'Designing Data-Intensive Applications',
    priceCents: 4599,
    quantity: 25,
  },
  { isbn: '978-1-4493-7332-0', title: 'Database Internals', priceCents: 3999, quantity: 10 },
  {
    isbn: '978-0-32-112521-7',
    title: 'Transaction Processing: Concepts and Techniques',
    priceCents: 8900,
    quantity: 3,
  },
  { isbn: '978-1-59327-584-6', title: 'The Art of PostgreSQL', priceCents: 3500, quantity: 150 },
  { isbn: '978-1-4842-3842-0', title: 'MySQL Concurrency', priceCents: 4200, quantity: 1 },
];

/**
 * Creates the demo catalogue and returns its books as they are now. Idempotent and safe to run
 * from several processes at once: a book whose ISBN exists is left alone (stock included), by
 * `INSERT … ON CONFLICT DO NOTHING` on PostgreSQL and `ON DUPLICATE KEY UPDATE id = id` on
 * MySQL — no read-then-insert, so no duplicate-key race.
 *
 * @example
 * await migrate(db);
 * await seed(db);
 */
export async function seed(db: Database): Promise<Book[]> {
  const dialect = bookstoreDialectOf(db, 'seed');
  const values = sql.join(
    SEED_BOOKS.map((b) => sql`(${b.isbn}, ${b.title}, ${b.priceCents}, ${b.quantity})`),
    sql`, `,
  );
  const isbns = sql.join(
    SEED_BOOKS.map((b) => sql`${b.isbn}`),
    sql`, `,
  );
  return atomic(db, async (tx) => {
    await dialect.changed(
      tx,
      dialect.ignoringDuplicates(
        sql`insert into books (isbn, title, price_cents, quantity) values ${values}`,
      ),
    );
    return selectBooks(
      tx,
      sql`select ${BOOK_COLUMNS} from books where isbn in (${isbns}) order by id`,
    );
  });
}
