import { type SQL, sql } from 'drizzle-orm';

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

/** `and exists (the customer)`: an unknown customer sells nothing, with no separate query. */
export function customerExists(customerId: number): SQL {
  return sql` and exists (select 1 from customers where id = ${customerId})`;
}

/**
 * The UPDATE of a sale: one copy off if one is left and the customer exists (decided by the
 * statement on the current row), or the quantity a locked read computed. The same text on
 * both families.
 */
export function saleUpdate(sale: Sale): SQL {
  return sale.newQuantity === undefined
    ? sql`update books set quantity = quantity - 1 where id = ${sale.bookId} and quantity > 0${customerExists(sale.customerId)}`
    : sql`update books set quantity = ${sale.newQuantity} where id = ${sale.bookId}`;
}
