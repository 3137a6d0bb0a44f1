// The README's code, as code that compiles and runs (test/readme.test.ts runs it on both
// databases, and checks the README shows these regions word for word).
import type { Database } from '@racefree/transactions';
// #region usage
import { listBooks, migrate, purchase, SoldOutError, seed, tagBook } from '@racefree/bookstore';
// #endregion usage

/** The README's first example: migrate, seed, buy the first book; 'sold out' when none is left. */
export async function buyFirstBook(db: Database, customerId: number): Promise<string> {
  // #region usage
  await migrate(db); // on every start: applies what is missing, one process at a time
  await seed(db); // idempotent demo catalogue
  const [book] = await listBooks(db);
  if (!book) return 'no books';
  try {
    const { orderId } = await purchase(db, { bookId: book.id, customerId, strategy: 'atomic' });
    return `order ${orderId}`;
  } catch (error) {
    if (error instanceof SoldOutError) return 'sold out'; // the web app answers 409
    throw error;
  }
  // #endregion usage
}

/** The README's tagging example: what `tagBook` says it did. */
export async function tagTwice(db: Database, bookId: number) {
  // #region tag-book
  const first = await tagBook(db, { bookId, tags: ['Databases', 'sql'] });
  // first: { tags: ['databases', 'sql'], created: ['databases', 'sql'], linked: ['databases', 'sql'] }
  const again = await tagBook(db, { bookId, tags: ['sql'] });
  // again: { tags: ['databases', 'sql'], created: [], linked: [] } (nothing changed)
  // #endregion tag-book
  return { first, again };
}
