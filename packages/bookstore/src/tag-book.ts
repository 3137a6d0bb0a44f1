import { getOrCreateMany } from '@racefree/rows';
import { atomic, classifyError, type Database, InvalidArgumentError } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { NotFoundError } from './errors.js';
import { requireId } from './require-id.js';
import { findBook } from './select-books.js';

/** The most tags one `tagBook` call takes. */
export const MAX_TAGS_PER_CALL = 20;
/** The longest tag name, in characters (the `tags.name` column's length). */
export const MAX_TAG_LENGTH = 40;
/**
 * What a tag name may be once normalised: lower-case ASCII letters and digits, and `+ # . -`
 * and single spaces inside (`c++`, `node.js`, `data-intensive`). Lower-case ASCII only, so
 * that both databases agree which names are one tag: MySQL's default collations are case- and
 * accent-insensitive (`Café` = `cafe`), PostgreSQL's are not.
 */
export const TAG_NAME_PATTERN = /^[a-z0-9](?:[a-z0-9+#. -]*[a-z0-9+#.])?$/;

/**
 * A tag name as stored: trimmed, lower-cased, inner runs of whitespace made one space. So
 * `' SQL '` and `'sql'` name one tag, whatever the database's collation.
 *
 * @example
 * normalizeTagName('  Data   Intensive '); // 'data intensive'
 */
export function normalizeTagName(name: string): string {
  return name.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** What `tagBook` did. */
export interface TaggedBook {
  bookId: number;
  /**
   * The book's tags, sorted by name: every tag of this call, and every other tag the book had
   * when the call's transaction took its snapshot (the start, on InnoDB's REPEATABLE READ; on
   * PostgreSQL's READ COMMITTED, the end).
   */
  tags: string[];
  /** The tags this call created (no book had them before), in the order asked. */
  created: string[];
  /** The tags this call added to the book (it did not have them before), in the order asked. */
  linked: string[];
}

/**
 * Tags a book, idempotently: get-or-creates the named tags and the book's links to them with
 * `getOrCreateMany`, in one transaction. Tagging a book with tags it has changes nothing and
 * says so (`linked` and `created` empty). Concurrent calls with overlapping tags make each tag
 * and each link once, and each tag is reported `created` by exactly one of them: the unique
 * keys (`tags.name`, the `(book_id, tag_id)` primary key) decide every race, and
 * `getOrCreateMany` inserts in key order, so overlapping calls queue instead of deadlocking.
 * Names are normalised (`normalizeTagName`); repeats in one call count once.
 *
 * @throws InvalidArgumentError for a bad id, or tags that are not a list of 1 to 20 names of
 *   1 to 40 characters matching `TAG_NAME_PATTERN` (the message names the item); no SQL sent.
 * @throws NotFoundError (`NOT_FOUND`) for an unknown book; nothing written.
 * @example
 * const { tags, created, linked } = await tagBook(db, { bookId: 1, tags: ['sql', 'databases'] });
 */
export async function tagBook(
  db: Database,
  input: { bookId: number; tags: readonly string[] },
): Promise<TaggedBook> {
  const bookId = requireId(input?.bookId, 'bookId');
  const names = requireTagNames(input?.tags);
  return atomic(
    db,
    async (tx) => {
      const dialect = bookstoreDialectOf(tx);
      const { tags, bookTags } = dialect.tables;
      if ((await findBook(tx, bookId)) === undefined) throw new NotFoundError('book', bookId);
      const tagRows = await getOrCreateMany(tx, tags, { where: names.map((name) => ({ name })) });
      let links: { created: boolean }[];
      try {
        links = await getOrCreateMany(tx, bookTags, {
          where: tagRows.map(({ row }) => ({ bookId, tagId: row.id })),
        });
      } catch (error) {
        // The book was deleted after it was found: the link's foreign key refused it.
        if (classifyError(error).kind === 'foreign_key_violation')
          throw new NotFoundError('book', bookId, { cause: error });
        throw error;
      }
      // A plain read: at InnoDB's REPEATABLE READ it answers from the snapshot of findBook,
      // which misses links other callers committed since — including this call's tags that
      // getOrCreateMany found (with a locking read) rather than created. Those are added from
      // its answer; a locking read here would wait on concurrent taggers' new links and
      // deadlock with their own locking reads.
      const seen = await dialect.rows<{ name: string }>(
        tx,
        sql`select ${tags.name} as name from ${bookTags} join ${tags} on ${tags.id} = ${bookTags.tagId} where ${bookTags.bookId} = ${bookId}`,
      );
      return {
        bookId,
        // Sorted here, not by ORDER BY: the servers' collations sort punctuation differently.
        tags: [...new Set([...seen.map((row) => row.name), ...names])].sort(),
        created: names.filter((_, i) => tagRows[i]?.created),
        linked: names.filter((_, i) => links[i]?.created),
      };
    },
    { retries: 5 },
  );
}

/** The distinct normalised names, in the order first asked; refuses anything else. */
function requireTagNames(tags: unknown): string[] {
  if (!Array.isArray(tags) || tags.length < 1 || tags.length > MAX_TAGS_PER_CALL)
    throw new InvalidArgumentError(
      `tags must be a list of 1 to ${MAX_TAGS_PER_CALL} tag names, got ${Array.isArray(tags) ? `${tags.length} items` : typeof tags}`,
    );
  const names = tags.map((tag: unknown, i) => {
    const name = typeof tag === 'string' ? normalizeTagName(tag) : undefined;
    if (name === undefined || name.length > MAX_TAG_LENGTH || !TAG_NAME_PATTERN.test(name))
      throw new InvalidArgumentError(
        `tags[${i}] must be a tag name of 1 to ${MAX_TAG_LENGTH} lower-case letters, digits, spaces and + # . -, got ${JSON.stringify(tag) ?? String(tag)}`,
      );
    return name;
  });
  return [...new Set(names)];
}
