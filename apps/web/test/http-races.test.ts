import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, serveApp } from './serve-app.js';

const STOCK = 150;
const BUYERS = 200;

describeDialects('HTTP purchase races', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  let customerId: number;

  beforeAll(async () => {
    pool = await t.connect({ max: 16 });
    served = await serveApp(pool);
    const customer = await send(`${served.url}/api/customers`, 'POST', {
      email: 'race@example.com',
      name: 'Racer',
    });
    customerId = (customer.body.customer as { id: number }).id;
  });
  afterAll(() => served?.close());

  async function raceFor(strategy: string, isbn: string) {
    const created = await send(`${served.url}/api/books`, 'POST', {
      isbn,
      title: `Hot ${strategy}`,
      price: 10,
      quantity: STOCK,
    });
    const bookId = (created.body.book as { id: number }).id;
    const outcome = await race(BUYERS, () =>
      send(`${served.url}/api/books/${bookId}/purchase`, 'POST', { customerId, strategy }),
    );
    const statuses = outcome.results.map((r) => r.status);
    const [stock] = await pool.query<{ q: number }>(
      `select quantity as q from books where id = ${bookId}`,
    );
    const [orders] = await pool.query<{ n: number }>(
      `select count(*) as n from orders where book_id = ${bookId}`,
    );
    return {
      statuses,
      errors: outcome.errors,
      quantity: Number(stock?.q),
      orders: Number(orders?.n),
    };
  }

  for (const [strategy, isbn] of [
    ['lock', '978-0-306-40615-7'],
    ['atomic', '978-3-16-148410-0'],
  ] as const) {
    it(`${BUYERS} concurrent purchases of ${STOCK} copies with '${strategy}': exactly ${STOCK} sold, ${BUYERS - STOCK} × 409`, async () => {
      const result = await raceFor(strategy, isbn);
      expect(result.errors).toEqual([]);
      expect(result.statuses.filter((s) => s === 201)).toHaveLength(STOCK);
      expect(result.statuses.filter((s) => s === 409)).toHaveLength(BUYERS - STOCK);
      expect(result.quantity).toBe(0);
      expect(result.orders).toBe(STOCK);
    });
  }

  it("'naive' shows its lost updates (recorded, not asserted)", async () => {
    const result = await raceFor('naive', '978-0-262-03384-8');
    const lost = result.quantity - (STOCK - result.orders);
    console.info(
      `[naive] ${result.orders} orders for ${STOCK} copies; stock left ${result.quantity}; ${lost} lost updates; statuses ${JSON.stringify(countBy(result.statuses))}`,
    );
    expect(result.errors).toEqual([]);
    expect(result.statuses.every((s) => s === 201 || s === 409)).toBe(true);
    // Wrong stock, but never a 201 without its order, nor an order without its 201 (a request
    // the client is told failed, or a retried attempt, leaves nothing), and never below zero.
    expect(result.orders).toBe(result.statuses.filter((s) => s === 201).length);
    expect(result.quantity).toBeGreaterThanOrEqual(0);
  });
});

function countBy(values: number[]) {
  return values.reduce<Record<number, number>>(
    (acc, v) => ({ ...acc, [v]: (acc[v] ?? 0) + 1 }),
    {},
  );
}
