import { sql } from 'drizzle-orm';

/** What `writeSale` writes. */
export interface Sale {
  bookId: number;
  customerId: number;
  /**
   * The new quantity, computed from a read that locked the row (and checked the customer).
   * Absent: take one copy off if one is left and the customer exists, decided by the UPDATE.
   */
  newQuantity?: number;
}

/**
 * `and exists (the customer)`: an unknown customer sells nothing, with no separate query. Its
 * value is the placeholder `customerId` (templates are rendered once, see `renderOnce`).
 */
export const CUSTOMER_EXISTS = sql` and exists (select 1 from customers where id = ${sql.placeholder('customerId')})`;

/** The values a sale's statements bind, by placeholder name. */
export function saleValues(sale: Sale): Record<string, unknown> {
  return { bookId: sale.bookId, customerId: sale.customerId, quantity: sale.newQuantity };
}
