import { describeDialects, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, serveApp } from './serve-app.js';

describeDialects('the bookstore API', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  let url: string;
  const count = async (table: string) =>
    Number((await pool.query<{ n: number }>(`select count(*) as n from ${table}`))[0]?.n);

  beforeAll(async () => {
    pool = await t.connect({ max: 16 });
    served = await serveApp(pool);
    url = served.url;
  });
  afterAll(() => served?.close());

  it('GET /healthz reports the database', async () => {
    expect(await send(`${url}/healthz`, 'GET')).toMatchObject({
      status: 200,
      body: { status: 'ok', database: 'up' },
    });
  });

  it('POST /api/books creates (201), then is idempotent by ISBN (200)', async () => {
    const book = {
      isbn: '978-0-13-468599-1',
      title: 'The Pragmatic Programmer',
      price: 39.99,
      quantity: 3,
    };
    const first = await send(`${url}/api/books`, 'POST', book);
    expect(first.status).toBe(201);
    expect(first.body.book).toMatchObject({
      isbn: book.isbn,
      priceCents: 3999,
      price: 39.99,
      quantity: 3,
    });
    const again = await send(`${url}/api/books`, 'POST', { ...book, title: 'another title' });
    expect(again.status).toBe(200);
    expect(again.body.book).toEqual(first.body.book);
    expect((await send(`${url}/api/books`, 'GET')).body).toEqual(
      expect.arrayContaining([{ ...(first.body.book as object), tags: [] }]),
    );
  });

  it('bad input → 400 naming the field, and nothing written', async () => {
    const before = await count('books');
    const cases: [unknown, string][] = [
      [{ isbn: 'abc', title: 'x', price: 1, quantity: 1 }, 'isbn'],
      [{ isbn: '9780134685991', title: '', price: 1, quantity: 1 }, 'title'],
      [{ isbn: '9780134685991', title: 'x', price: -1, quantity: 1 }, 'price'],
      [{ isbn: '9780134685991', title: 'x', price: 1, quantity: 1.5 }, 'quantity'],
      [{ isbn: '9780134685991', title: 'x', price: 1 }, 'quantity'],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const response = await send(`${url}/api/books`, 'POST', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(String(response.body.error)).toMatch(new RegExp(`^${field}`));
    }
    expect((await send(`${url}/api/books`, 'POST', '{not json')).status).toBe(400);
    expect(
      (await send(`${url}/api/books`, 'POST', undefined, { 'content-type': 'text/plain' })).status,
    ).toBe(415);
    expect(await count('books')).toBe(before);
  });

  it('purchase: 201 with an order; sold out → 409 and no order; unknown ids → 404; bad strategy → 400', async () => {
    const { body } = await send(`${url}/api/books`, 'POST', {
      isbn: '978-1-4028-9462-6',
      title: 'One copy',
      price: 5,
      quantity: 1,
    });
    const bookId = (body.book as { id: number }).id;
    const customer = await send(`${url}/api/customers`, 'POST', {
      email: 'buyer@example.com',
      name: 'Buyer',
    });
    expect(customer.status).toBe(201);
    const customerId = (customer.body.customer as { id: number }).id;
    expect(
      (await send(`${url}/api/books/${bookId}/purchase`, 'POST', { customerId, strategy: 'lock' }))
        .status,
    ).toBe(201);
    const ordersBefore = await count('orders');
    const soldOut = await send(`${url}/api/books/${bookId}/purchase`, 'POST', {
      customerId,
      strategy: 'atomic',
    });
    expect(soldOut).toMatchObject({ status: 409, body: { code: 'SOLD_OUT' } });
    expect(await count('orders')).toBe(ordersBefore);
    expect((await send(`${url}/api/books/999999/purchase`, 'POST', { customerId })).status).toBe(
      404,
    );
    expect((await send(`${url}/api/books/abc/purchase`, 'POST', { customerId })).status).toBe(404);
    expect(
      (await send(`${url}/api/books/${bookId}/purchase`, 'POST', { customerId: 999999 })).status,
    ).toBe(404);
    expect(
      (await send(`${url}/api/books/${bookId}/purchase`, 'POST', { customerId, strategy: 'yolo' }))
        .body.error,
    ).toMatch(/^strategy/);
    expect((await send(`${url}/api/customers/999999/emails`, 'GET')).status).toBe(404);
    expect((await send(`${url}/api/customers/${customerId}/emails`, 'GET')).body).toEqual({
      customerId,
      emails: [],
    });
  });

  it('sign-up is idempotent by email: 201 then 200, one customer', async () => {
    const a = await send(`${url}/api/customers`, 'POST', {
      email: 'same@example.com',
      name: 'Same',
    });
    const b = await send(`${url}/api/customers`, 'POST', {
      email: 'same@example.com',
      name: 'Other',
    });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.customer).toEqual(a.body.customer);
  });

  it('sends security headers, and error responses carry no stack or SQL', async () => {
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    const error = await send(`${url}/api/books/1/purchase`, 'POST', {
      customerId: 1,
      strategy: 'lock',
    });
    expect(error.text).not.toMatch(/at .+\.(ts|js):\d+|select |insert |update /i);
    expect((await send(`${url}/nope`, 'GET')).status).toBe(404);
    expect(served.serverErrors).toEqual([]);
  });
});

describeDialects('admin actions', (t) => {
  it('do not exist without a token, and need the token when configured', async () => {
    const pool = await t.connect({ max: 4 });
    const { migrate } = await import('@racefree/bookstore');
    const { installIdempotency } = await import('@racefree/hono');
    await migrate(pool.db);
    await installIdempotency(pool.db);
    const { createApp } = await import('../src/create-app.js');
    const { plainSignUp } = await import('./serve-app.js');
    const off = createApp({ db: pool.db, signUp: plainSignUp });
    expect((await off.request('/api/admin/reset', { method: 'POST' })).status).toBe(404);
    const token = 'a-long-enough-admin-token';
    const on = createApp({ db: pool.db, signUp: plainSignUp, adminToken: token });
    await pool.query("insert into customers (email, name) values ('keep@example.com', 'Keep')");
    // A keyed sign-up, so the reset has a stored answer to forget.
    const signUp = () =>
      on.request('/api/customers', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'reset-key' },
        body: JSON.stringify({ email: 'keyed@example.com', name: 'Keyed' }),
      });
    expect((await signUp()).status).toBe(201);
    expect((await on.request('/api/admin/reset', { method: 'POST' })).status).toBe(401);
    expect(
      (
        await on.request('/api/admin/reset', {
          method: 'POST',
          headers: { authorization: 'Bearer wrong-token-of-same-size' },
        })
      ).status,
    ).toBe(401);
    expect(
      Number((await pool.query<{ n: number }>('select count(*) as n from customers'))[0]?.n),
    ).toBe(2);
    expect(
      (
        await on.request('/api/admin/reset', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);
    expect(
      Number((await pool.query<{ n: number }>('select count(*) as n from customers'))[0]?.n),
    ).toBe(0);
    // The key was forgotten with the data: it signs up again rather than replaying a
    // customer that no longer exists.
    const again = await signUp();
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    const reseed = await on.request('/api/admin/reseed', {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(reseed.status).toBe(200);
    expect(((await reseed.json()) as { books: number }).books).toBeGreaterThan(0);
  });
});
