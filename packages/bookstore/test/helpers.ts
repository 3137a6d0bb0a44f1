import type { TestConnection } from '@racefree/testkit';
import { executeRows, executeStatement } from '@racefree/transactions';
import { sql } from 'drizzle-orm';

let counter = 0;
const unique = () => `${process.pid}-${Date.now().toString(36)}-${++counter}`;

/** Inserts a book with a fresh ISBN (straight SQL, not the code under test) and returns its id. */
export async function insertBook(connection: TestConnection, quantity: number): Promise<number> {
  const isbn = `t-${unique()}`.slice(0, 17);
  await executeStatement(
    connection.db,
    sql`insert into books (isbn, title, price_cents, quantity) values (${isbn}, 'Test book', 1999, ${quantity})`,
  );
  const [row] = await executeRows<{ id: number }>(
    connection.db,
    sql`select id from books where isbn = ${isbn}`,
  );
  return Number(row?.id);
}

/** Inserts `count` customers and returns their ids. */
export async function insertCustomers(
  connection: TestConnection,
  count: number,
): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const email = `buyer-${unique()}@example.com`;
    await executeStatement(
      connection.db,
      sql`insert into customers (email, name) values (${email}, ${`Buyer ${i}`})`,
    );
    const [row] = await executeRows<{ id: number }>(
      connection.db,
      sql`select id from customers where email = ${email}`,
    );
    ids.push(Number(row?.id));
  }
  return ids;
}

/** The book's quantity and its order count, straight from the database. */
export async function stockOf(
  connection: TestConnection,
  bookId: number,
): Promise<{ quantity: number; orders: number }> {
  const [row] = await executeRows<{ quantity: number; orders: number | string }>(
    connection.db,
    sql`select quantity, (select count(*) from orders where book_id = ${bookId}) as orders from books where id = ${bookId}`,
  );
  return { quantity: Number(row?.quantity), orders: Number(row?.orders) };
}
