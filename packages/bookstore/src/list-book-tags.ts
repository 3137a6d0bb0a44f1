import { current, type Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';

/**
 * Every book's tags: book id → tag names, sorted (books without tags are absent). One query.
 * Reads through `current(db)`, so inside a transaction it sees that transaction's own writes.
 *
 * @example
 * const tagsOf = await listBookTags(db);
 * for (const book of await listBooks(db)) console.log(book.title, tagsOf.get(book.id) ?? []);
 */
export async function listBookTags(db: Database): Promise<Map<number, string[]>> {
  const target = current(db);
  const dialect = bookstoreDialectOf(target, 'listBookTags');
  const { tags, bookTags } = dialect.tables;
  const rows = await dialect.rows<{ book_id: number | string; name: string }>(
    target,
    sql`select ${bookTags.bookId} as book_id, ${tags.name} as name from ${bookTags} join ${tags} on ${tags.id} = ${bookTags.tagId}`,
  );
  const byBook = new Map<number, string[]>();
  for (const row of rows) {
    const bookId = Number(row.book_id);
    const names = byBook.get(bookId);
    if (names) names.push(row.name);
    else byBook.set(bookId, [row.name]);
  }
  // Sorted here, not by ORDER BY: the servers' collations sort punctuation differently.
  for (const names of byBook.values()) names.sort();
  return byBook;
}
