import {
  bookstoreTables,
  type PurchaseStrategy,
  purchase,
  SoldOutError,
  stockReport,
} from '@racefree/bookstore';
import { getOrCreate } from '@racefree/rows';
import type { Database } from '@racefree/transactions';

/** What one race-lab run did, and whether the stock still adds up. */
export interface RaceLabResult {
  strategy: PurchaseStrategy;
  buyers: number;
  startStock: number;
  /** Purchases that wrote an order. */
  orders: number;
  /** Purchases refused as sold out (409). */
  soldOut: number;
  /** Purchases that failed otherwise (a deadlock not retried, a CHECK violation, …). */
  failed: number;
  /** The stock the orders imply: start − orders (never below 0). */
  expectedStock: number;
  /** The stock the database holds now. */
  actualStock: number;
  /** Orders whose decrement was overwritten by another buyer: actual − expected. */
  lostUpdates: number;
  /** Orders beyond the stock there was. */
  oversold: number;
  elapsedMs: number;
}

let labCounter = 0;

/**
 * Puts a fresh book with `stock` copies on sale and sends `buyers` purchases at it all at once
 * through the chosen strategy, then compares the stock with the orders written. `naive`
 * shows lost updates; `lock` and `atomic` never do.
 */
export async function runRaceLab(
  db: Database,
  input: { strategy: PurchaseStrategy; buyers: number; stock: number },
): Promise<RaceLabResult> {
  const { books, customers } = bookstoreTables(db);
  labCounter += 1;
  const isbn = `979${String(Date.now() % 1e8).padStart(8, '0')}${String(labCounter % 100).padStart(2, '0')}`;
  const { row: book } = await getOrCreate(db, books, {
    where: { isbn },
    defaults: {
      title: `Race lab copy (${input.strategy})`,
      priceCents: 100,
      quantity: input.stock,
    },
  });
  const { row: buyer } = await getOrCreate(db, customers, {
    where: { email: 'race-lab@example.com' },
    defaults: { name: 'Race lab' },
  });
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const started = performance.now();
  const attempts = Array.from({ length: input.buyers }, async () => {
    await gate; // released together: the point of the lab is that they collide
    return purchase(db, { bookId: book.id, customerId: buyer.id, strategy: input.strategy });
  });
  release();
  const settled = await Promise.allSettled(attempts);
  const elapsedMs = Math.round(performance.now() - started);
  const report = await stockReport(db, book.id);
  const soldOut = settled.filter(
    (s) => s.status === 'rejected' && s.reason instanceof SoldOutError,
  ).length;
  const failed = settled.filter((s) => s.status === 'rejected').length - soldOut;
  const expectedStock = Math.max(0, input.stock - report.orders);
  return {
    strategy: input.strategy,
    buyers: input.buyers,
    startStock: input.stock,
    orders: report.orders,
    soldOut,
    failed,
    expectedStock,
    actualStock: report.quantity,
    lostUpdates: Math.max(0, report.quantity - (input.stock - report.orders)),
    oversold: Math.max(0, report.orders - input.stock),
    elapsedMs,
  };
}
