import type { TestConnection } from '@racefree/testkit';

let counter = 0;
const unique = () => `${process.pid}-${Date.now().toString(36)}-${++counter}`;

/** `$n` on PostgreSQL, `?` on MySQL: the raw drivers' placeholders. */
const placeholder = (connection: TestConnection, n: number) =>
  connection.kind === 'postgres' ? `$${n}` : '?';

/** Inserts a book with a fresh ISBN (straight SQL, not the code under test) and returns its id. */
export async function insertBook(connection: TestConnection, quantity: number): Promise<number> {
  const isbn = `t-${unique()}`.slice(0, 17);
  const p = (n: number) => placeholder(connection, n);
  await connection.query(
    `insert into books (isbn, title, price_cents, quantity) values (${p(1)}, 'Test book', 1999, ${p(2)})`,
    [isbn, quantity],
  );
  const [row] = await connection.query<{ id: number }>(
    `select id from books where isbn = ${p(1)}`,
    [isbn],
  );
  return Number(row?.id);
}

/** Inserts `count` customers and returns their ids. */
export async function insertCustomers(
  connection: TestConnection,
  count: number,
): Promise<number[]> {
  const p = (n: number) => placeholder(connection, n);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const email = `buyer-${unique()}@example.com`;
    await connection.query(`insert into customers (email, name) values (${p(1)}, ${p(2)})`, [
      email,
      `Buyer ${i}`,
    ]);
    const [row] = await connection.query<{ id: number }>(
      `select id from customers where email = ${p(1)}`,
      [email],
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
  const [row] = await connection.query<{ quantity: number; orders: number | string }>(
    `select quantity, (select count(*) from orders where book_id = ${Number(bookId)}) as orders from books where id = ${Number(bookId)}`,
  );
  return { quantity: Number(row?.quantity), orders: Number(row?.orders) };
}
