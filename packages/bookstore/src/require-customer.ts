import type { Database } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreDialectOf } from './dialects/bookstore-dialect.js';
import { NotFoundError } from './errors.js';

/**
 * Throws `NotFoundError` unless the customer exists: an unknown customer's (empty) email list
 * is a 404, not an empty answer. (`purchase` needs no such query: it checks the customer inside
 * the sale's own statement.)
 */
export async function requireCustomer(db: Database, customerId: number): Promise<void> {
  const [found] = await bookstoreDialectOf(db).rows(
    db,
    sql`select id from customers where id = ${customerId}`,
  );
  if (found === undefined) throw new NotFoundError('customer', customerId);
}
