/** A book as the services return it (both dialects map their rows to this shape). */
export interface Book {
  id: number;
  /** ISBN-10 or ISBN-13, hyphens allowed; unique. */
  isbn: string;
  title: string;
  /**
   * Price in integer cents. Integer cents rather than NUMERIC/DECIMAL: both drivers return
   * DECIMAL as a string (JavaScript has no exact decimal), while integers come back as plain
   * numbers on both, add up exactly, and serialise to JSON unchanged.
   */
  priceCents: number;
  /** Copies in stock; never below zero (a CHECK constraint enforces it). */
  quantity: number;
}

/** What `seed` and the HTTP API need to create a book. */
export interface NewBook {
  isbn: string;
  title: string;
  priceCents: number;
  quantity: number;
}

/** The purchase strategies, from the buggy one to the two correct ones. */
export const PURCHASE_STRATEGIES = ['naive', 'lock', 'atomic'] as const;

/**
 * How `purchase` protects the stock count:
 * - `naive`: reads the quantity, then writes back `quantity − 1` in a separate statement. Two
 *   buyers who read the same value both write the same result: an update is lost. Kept only to
 *   demonstrate the bug.
 * - `lock`: the same read-modify-write, but the read is `SELECT … FOR UPDATE`, so a second
 *   buyer waits for the first to commit and then reads the new value.
 * - `atomic`: one conditional statement, `UPDATE … SET quantity = quantity − 1 WHERE … AND
 *   quantity > 0`; the database applies it to the current row (Django's `F()`).
 */
export type PurchaseStrategy = (typeof PURCHASE_STRATEGIES)[number];

/** What `purchase` needs. */
export interface PurchaseInput {
  bookId: number;
  customerId: number;
  strategy: PurchaseStrategy;
}

/** A completed purchase: the order row that was written. */
export interface Purchase {
  orderId: number;
  bookId: number;
  customerId: number;
  strategy: PurchaseStrategy;
}

/** A book's stock next to the orders written for it (the race lab compares the two). */
export interface StockReport {
  bookId: number;
  /** Copies in stock now. */
  quantity: number;
  /** Orders written for the book. */
  orders: number;
}
