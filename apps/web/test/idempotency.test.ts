import { setTimeout as sleep } from 'node:timers/promises';
import { queryRows } from '@racefree/bookstore';
import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { atomic } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sent, send, serveApp } from './serve-app.js';

const DUPLICATES = 30;

describeDialects('Idempotency-Key on the two data-changing POSTs', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  let url: string;
  let customerId: number;
  let keyCounter = 0;
  const newKey = () => `test-${t.kind}-${process.pid}-${++keyCounter}`;
  const count = async (query: string) =>
    Number((await pool.query<{ n: number | string }>(query))[0]?.n);
  const keyed = (path: string, body: unknown, key: string) =>
    send(`${url}${path}`, 'POST', body, { 'idempotency-key': key });
  const addBook = async (isbn: string, quantity: number) => {
    const { body } = await send(`${url}/api/books`, 'POST', {
      isbn,
      title: `Keyed ${isbn}`,
      price: 10,
      quantity,
    });
    return (body.book as { id: number }).id;
  };
  const stock = (bookId: number) => count(`select quantity as n from books where id = ${bookId}`);
  const orders = (bookId: number) =>
    count(`select count(*) as n from orders where book_id = ${bookId}`);
  const replayed = (answer: Sent) => answer.headers.get('idempotent-replayed') === 'true';

  beforeAll(async () => {
    pool = await t.connect({ max: 16 });
    served = await serveApp(pool);
    url = served.url;
    const customer = await send(`${url}/api/customers`, 'POST', {
      email: `keyed-${t.kind}@example.com`,
      name: 'Keyed',
    });
    customerId = (customer.body.customer as { id: number }).id;
  });
  afterAll(() => served?.close());

  it('a purchase runs once: the retry replays the first answer, and buys nothing', async () => {
    const bookId = await addBook('978-0-596-52068-7', 5);
    const key = newKey();
    const first = await keyed(`/api/books/${bookId}/purchase`, { customerId }, key);
    expect(first.status).toBe(201);
    expect(replayed(first)).toBe(false);
    const again = await keyed(`/api/books/${bookId}/purchase`, { customerId }, key);
    expect(again.status).toBe(201);
    expect(replayed(again)).toBe(true);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect([await orders(bookId), await stock(bookId)]).toEqual([1, 4]);
    // No key: every request buys.
    await send(`${url}/api/books/${bookId}/purchase`, 'POST', { customerId });
    await send(`${url}/api/books/${bookId}/purchase`, 'POST', { customerId });
    expect([await orders(bookId), await stock(bookId)]).toEqual([3, 2]);
  });

  it('a sign-up runs once: the retry replays 201 created, not 200 existing', async () => {
    const key = newKey();
    const body = { email: `once-${t.kind}@example.com`, name: 'Once' };
    const first = await keyed('/api/customers', body, key);
    const again = await keyed('/api/customers', body, key);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(again.body).toEqual(first.body);
    expect(first.body.created).toBe(true);
    expect(replayed(again)).toBe(true);
    // Without the key the same sign-up is simply found.
    expect((await send(`${url}/api/customers`, 'POST', body)).status).toBe(200);
  });

  it('another body under a used key → 422 problem+json, and nothing runs', async () => {
    const bookId = await addBook('978-0-13-235088-4', 5);
    const key = newKey();
    expect((await keyed(`/api/books/${bookId}/purchase`, { customerId }, key)).status).toBe(201);
    const other = await keyed(
      `/api/books/${bookId}/purchase`,
      { customerId, strategy: 'lock' },
      key,
    );
    expect(other.status).toBe(422);
    expect(other.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(other.body.title).toBe('Idempotency-Key reused');
    // Another path under the same key is another request too.
    const otherBook = await addBook('978-0-201-63361-0', 5);
    expect((await keyed(`/api/books/${otherBook}/purchase`, { customerId }, key)).status).toBe(422);
    expect([await orders(bookId), await orders(otherBook)]).toEqual([1, 0]);
  });

  it('a bad key → 400, nothing runs', async () => {
    const bookId = await addBook('978-1-59327-828-1', 5);
    const answer = await keyed(`/api/books/${bookId}/purchase`, { customerId }, 'has space');
    expect(answer.status).toBe(400);
    expect(answer.body.title).toBe('Invalid Idempotency-Key');
    expect(await orders(bookId)).toBe(0);
  });

  it('sold out → the bookstore 409 (no Retry-After, not stored): the key buys once restocked', async () => {
    const bookId = await addBook('978-0-262-51087-5', 0);
    const key = newKey();
    const soldOut = await keyed(`/api/books/${bookId}/purchase`, { customerId }, key);
    expect(soldOut.status).toBe(409);
    expect(soldOut.body.code).toBe('SOLD_OUT');
    expect(soldOut.headers.get('retry-after')).toBeNull();
    expect(soldOut.headers.get('content-type')).toMatch(/^application\/json/);
    // Responses ≥ 400 are not stored: the same key runs again, and now buys.
    await pool.query(`update books set quantity = 1 where id = ${bookId}`);
    const bought = await keyed(`/api/books/${bookId}/purchase`, { customerId }, key);
    expect(bought.status).toBe(201);
    expect(replayed(bought)).toBe(false);
    expect(await orders(bookId)).toBe(1);
  });

  it(`${DUPLICATES} concurrent duplicates of one keyed purchase buy once; every answer is that purchase`, async () => {
    const bookId = await addBook('978-0-321-12742-6', 100);
    const key = newKey();
    const outcome = await race(DUPLICATES, () =>
      keyed(`/api/books/${bookId}/purchase`, { customerId }, key),
    );
    expect(outcome.errors).toEqual([]);
    expect([await orders(bookId), await stock(bookId)]).toEqual([1, 99]);
    const [order] = await pool.query<{ id: number }>(
      `select id from orders where book_id = ${bookId}`,
    );
    // The duplicates waited for the first (10 s at most) and replayed it.
    for (const answer of outcome.results) {
      expect(answer.status).toBe(201);
      expect((answer.body.order as { orderId: number }).orderId).toBe(Number(order?.id));
    }
    expect(outcome.results.filter((answer) => !replayed(answer))).toHaveLength(1);
  });

  it('concurrent duplicates of one keyed sign-up make one customer, answered 201 created to all', async () => {
    const key = newKey();
    const body = { email: `dup-keyed-${t.kind}@example.com`, name: 'Dup' };
    const outcome = await race(DUPLICATES, () => keyed('/api/customers', body, key));
    expect(outcome.errors).toEqual([]);
    expect(outcome.results.map((answer) => answer.status)).toEqual(Array(DUPLICATES).fill(201));
    expect(new Set(outcome.results.map((answer) => answer.text)).size).toBe(1);
    expect(await count(`select count(*) as n from customers where email = '${body.email}'`)).toBe(
      1,
    );
  });
});

describeDialects('Idempotency-Key: a duplicate of a request still running', (t) => {
  it('gets 409 "Request in progress" with Retry-After, then the replay once the first is done', async () => {
    const pool = await t.connect({ max: 8 });
    const served = await serveApp(pool, undefined, { idempotencyWaitMs: 200 });
    try {
      const { url } = served;
      const customer = await send(`${url}/api/customers`, 'POST', {
        email: `slow-${t.kind}@example.com`,
        name: 'Slow',
      });
      const customerId = (customer.body.customer as { id: number }).id;
      const book = await send(`${url}/api/books`, 'POST', {
        isbn: '978-0-07-352332-3',
        title: 'Held',
        price: 1,
        quantity: 5,
      });
      const bookId = (book.body.book as { id: number }).id;
      const purchase = (key: string) =>
        send(
          `${url}/api/books/${bookId}/purchase`,
          'POST',
          { customerId },
          {
            'idempotency-key': key,
          },
        );

      // Hold the book's row lock, so the first purchase claims its key and then waits inside
      // its handler: its key is claimed and not yet complete.
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      let onLocked = () => {};
      const locked = new Promise<void>((resolve) => {
        onLocked = resolve;
      });
      const holder = atomic(pool.db, async (tx) => {
        await queryRows(tx, sql`select id from books where id = ${bookId} for update`);
        onLocked();
        await released;
      });
      await locked;
      const first = purchase('slow-key');
      let duplicate: Sent;
      try {
        await until('the first purchase to wait on the book', async () => {
          const [row] = await pool.query<{ n: number | string }>(
            t.kind === 'postgres'
              ? "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'with sold as%'"
              : "select count(*) as n from information_schema.processlist where db = database() and command = 'Query' and info like 'update books set quantity%'",
          );
          return Number(row?.n) === 1;
        });
        duplicate = await purchase('slow-key');
      } finally {
        // Released whatever happened: a failed check must not leave the lock held.
        release();
        await holder;
      }
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers.get('retry-after')).toBe('1');
      expect(duplicate.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(duplicate.body.title).toBe('Request in progress');

      const done = await first;
      expect(done.status).toBe(201);
      const retried = await purchase('slow-key');
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(retried.text).toBe(done.text);
      const [orders] = await pool.query<{ n: number | string }>(
        `select count(*) as n from orders where book_id = ${bookId}`,
      );
      expect(Number(orders?.n)).toBe(1);
    } finally {
      await served.close();
    }
  });
});

/** Polls the server until `check` holds (an observed state, never a timed guess); 15 s at most. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const giveUpAt = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > giveUpAt) throw new Error(`gave up waiting for ${what}`);
    await sleep(5);
  }
}
