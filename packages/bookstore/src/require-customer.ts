import { type Database, executeRows } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { NotFoundError } from './errors.js';

/**
 * Throws `NotFoundError` unless the customer exists. Checked before the stock is touched, so an
 * unknown customer never costs a copy; a customer deleted after this check still cannot get an
 * order (the foreign key refuses it and the transaction rolls back).
 */
export async function requireCustomer(db: Database, customerId: number): Promise<void> {
  const [found] = await executeRows(db, sql`select id from customers where id = ${customerId}`);
  if (found === undefined) throw new NotFoundError('customer', customerId);
}
