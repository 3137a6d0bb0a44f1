import {
  PURCHASE_STRATEGIES,
  type PurchaseStrategy,
  purchase,
  queryRows,
  runStatement,
  SoldOutError,
} from '@racefree/bookstore';
import { getOrCreate } from '@racefree/rows';
import { atomic } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { bookstoreTables } from '@racefree/bookstore';
import { runInWaves } from './barrier.js';
import type { LabContext, Race } from './lab-context.js';
import { tally } from './lab-result.js';

/** The lab book's ISBN for a run: unique, and never a real ISBN (no catalogue clash). */
const isbnOf = (runId: string) => `lab-${runId}`.slice(0, 17);

/**
 * The lost update and the oversell: `clients` buyers of a fresh book with half as many copies.
 * Each buyer opens its transaction, waits for its wave on a barrier, then buys through the
 * chosen strategy. `naive` reads the stock and writes back "read − 1": the buyers of a wave
 * all read the same number, so their decrements overwrite each other (lost updates) and more
 * orders are written than there were copies (oversold). `lock` and `atomic` sell exactly the
 * stock and refuse the rest as sold out.
 */
export const oversellRace: Race<PurchaseStrategy> = {
  name: 'oversell',
  title: 'Lost update and oversell',
  description:
    'Buyers race for a book with half as many copies as buyers. naive reads the stock, then writes back read − 1; lock reads with SELECT … FOR UPDATE; atomic runs UPDATE … SET quantity = quantity − 1 WHERE quantity > 0.',
  strategies: PURCHASE_STRATEGIES,
  safe: ['lock', 'atomic'],
  defaultClients: 40,

  async run(context: LabContext, strategy: PurchaseStrategy, clients: number) {
    const { db } = context;
    const { books, customers } = bookstoreTables(db);
    const stock = Math.ceil(clients / 2);
    const { row: book } = await getOrCreate(db, books, {
      where: { isbn: isbnOf(context.runId) },
      defaults: { title: `Race lab copy (${strategy})`, priceCents: 100, quantity: stock },
    });
    const { row: buyer } = await getOrCreate(db, customers, {
      where: { email: 'race-lab@example.com' },
      defaults: { name: 'Race lab' },
    });
    const outcomes = await runInWaves(clients, context.concurrency, ({ index, sync }) =>
      // The buyer's transaction holds its connection before the wave is released, so the
      // wave's purchases really run at once; the purchase joins it (a savepoint).
      atomic(db, async (tx) => {
        await sync();
        await context.faults.afterSync?.('oversell', index);
        return purchase(tx, { bookId: book.id, customerId: buyer.id, strategy });
      }),
    );
    await context.faults.beforeCount?.('oversell');
    const { values, failures, errors } = tally(
      outcomes,
      (reason) => (reason instanceof SoldOutError ? 'soldOut' : 'failed'),
      ['soldOut'],
    );
    const [row] = await queryRows<{ quantity: number; orders: number | string }>(
      db,
      sql`select quantity, (select count(*) from orders where book_id = ${book.id}) as orders from books where id = ${book.id}`,
    );
    const orders = Number(row?.orders);
    const stockLeft = Number(row?.quantity);
    const expectedStockLeft = Math.max(0, stock - orders);
    // Every order should have taken a copy off: the copies still "in stock" that orders
    // account for are lost updates, the orders beyond the stock are oversold.
    const lostUpdates = Math.max(0, stockLeft - expectedStockLeft);
    const oversold = Math.max(0, orders - stock);
    const anomalies = lostUpdates + oversold;
    return {
      anomalies,
      counts: {
        buyers: clients,
        'start stock': stock,
        'orders written': orders,
        'sold out (409)': failures.soldOut ?? 0,
        'stock left': stockLeft,
        'stock expected': expectedStockLeft,
        'lost updates': lostUpdates,
        oversold,
        'other failures': failures.failed ?? 0,
        confirmed: values.length,
      },
      summary:
        anomalies === 0
          ? `Sold exactly ${orders} of ${stock} copies; the stock adds up.`
          : `${orders} orders for ${stock} copies: ${lostUpdates} lost updates, ${oversold} oversold.`,
      errors,
    };
  },

  async cleanUp(context: LabContext) {
    const { db } = context;
    const isbn = isbnOf(context.runId);
    await atomic(db, async (tx) => {
      await runStatement(
        tx,
        sql`delete from orders where book_id in (select id from books where isbn = ${isbn})`,
      );
      await runStatement(tx, sql`delete from books where isbn = ${isbn}`);
    });
  },
};
