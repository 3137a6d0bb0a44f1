import type { Admin } from './open-admin.js';

/** `@racefree/bookstore`, loaded at run time (it may not be built yet). */
export type BookstoreModule = typeof import('@racefree/bookstore');

/** Stock the hot book starts every run with: never sold out within a run. */
export const START_STOCK = 1_000_000_000;

/** The bookstore rows the purchase scenario needs. */
export interface BookstoreFixture {
  bookId: number;
  /** One customer per client (index = client index). */
  customerIds: number[];
}

/**
 * Applies the bookstore's migrations with its own `migrate`, then creates the hot book and one
 * customer per possible client.
 */
export async function prepareBookstore(
  admin: Admin,
  bookstore: BookstoreModule,
  maxClients: number,
): Promise<BookstoreFixture> {
  await bookstore.migrate(admin.db);
  const p = (n: number) => (admin.family === 'postgres' ? `$${n}` : '?');
  await admin.query(
    `insert into books (isbn, title, price_cents, quantity) values (${p(1)}, ${p(2)}, ${p(3)}, ${p(4)})`,
    ['978-0-00-000000-2', 'The Hot Row', 1999, START_STOCK],
  );
  const [book] = await admin.query<{ id: number }>(`select id from books where isbn = ${p(1)}`, [
    '978-0-00-000000-2',
  ]);
  for (let i = 0; i < maxClients; i++) {
    await admin.query(`insert into customers (email, name) values (${p(1)}, ${p(2)})`, [
      `buyer-${i}@bench.example`,
      `Buyer ${i}`,
    ]);
  }
  const customers = await admin.query<{ id: number }>(
    `select id from customers where email like 'buyer-%' order by id`,
  );
  return { bookId: Number(book?.id), customerIds: customers.map((c) => Number(c.id)) };
}
