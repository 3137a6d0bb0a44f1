import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { beforeAll, expect, it } from 'vitest';
import { migrate, purchase, SoldOutError, stockReport } from '../src/index.js';
import { insertBook, insertCustomers } from './helpers.js';

const BUYERS = 200;
const STOCK = 150;

// 200 buyers released together on a barrier, through a pool of 20 connections (the connection
// budget of a race harness), for a book with 150 copies.
describeDialects('purchase under contention', (t) => {
  let pool: TestConnection;
  let customers: number[] = [];
  beforeAll(async () => {
    await migrate(t.connection.db);
    customers = await insertCustomers(t.connection, 10);
    pool = await t.connect({ max: 20 });
  });

  const buyAll = async (strategy: 'naive' | 'lock' | 'atomic') => {
    const bookId = await insertBook(t.connection, STOCK);
    const outcome = await race(BUYERS, (caller) =>
      purchase(pool.db, { bookId, customerId: customers[caller % customers.length]!, strategy }),
    );
    return { bookId, outcome, report: await stockReport(t.connection.db, bookId) };
  };

  it.each(['lock', 'atomic'] as const)(
    '%s sells exactly the stock: 150 orders, 50 SoldOutError, stock 0',
    async (strategy) => {
      const { outcome, report } = await buyAll(strategy);
      expect(outcome.errors.filter((e) => !(e instanceof SoldOutError))).toEqual([]);
      expect(outcome.results).toHaveLength(STOCK);
      expect(outcome.errors).toHaveLength(BUYERS - STOCK);
      expect(report).toMatchObject({ quantity: 0, orders: STOCK });
    },
  );

  it('naive loses updates: more orders than copies taken off the stock', async () => {
    // The same race, with the read-modify-write that does not lock. How many updates are lost
    // depends on scheduling, so the number is printed, not asserted; what is asserted is that
    // the invariant `stock = start − orders` breaks. It broke on every run while this was
    // written (13 runs per database: 183–193 lost updates on PostgreSQL, 188–189 on MariaDB,
    // always 200 orders for 150 copies). If it ever balances, the race simply did not happen
    // that run — rerun before suspecting the other strategies.
    const { outcome, report } = await buyAll('naive');
    const lostUpdates = report.orders - (STOCK - report.quantity);
    console.log(
      `[${t.kind}] naive: ${BUYERS} buyers, ${STOCK} in stock → ${report.orders} orders, stock left ${report.quantity}, ${lostUpdates} lost updates, ${outcome.errors.length} refused`,
    );
    expect(outcome.errors.filter((e) => !(e instanceof SoldOutError))).toEqual([]);
    expect(report.quantity).toBeGreaterThanOrEqual(0); // the CHECK constraint still holds…
    expect(STOCK - report.quantity).not.toBe(report.orders); // …but the books do not balance
  });
});
