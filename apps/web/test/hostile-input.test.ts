import { describeDialects, type TestConnection } from '@racefree/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, serveApp } from './serve-app.js';

/** Strings built to break naive code: quotes, %, NUL, emoji, SQL fragments, lone surrogates. */
const hostileString = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    "'; drop table books; --",
    '" or 1=1 --',
    '%_%',
    '\u0000',
    'a\u0000b',
    '😀📚',
    '\uD800',
    'Robert"); DELETE FROM customers;--',
    '\\',
    '${1+1}',
    '<script>alert(1)</script>',
  ),
);

const anyBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.record(
    {
      isbn: hostileString,
      title: hostileString,
      price: fc.oneof(fc.double(), fc.string(), fc.integer()),
      quantity: fc.oneof(fc.integer(), fc.double(), fc.string()),
    },
    { requiredKeys: [] },
  ),
  fc.record({ email: hostileString, name: hostileString }, { requiredKeys: [] }),
  fc.record(
    { customerId: fc.oneof(fc.integer(), fc.double(), hostileString), strategy: hostileString },
    { requiredKeys: [] },
  ),
  fc.record({
    tags: fc.oneof(
      fc.array(fc.oneof(hostileString, fc.integer()), { maxLength: 25 }),
      hostileString,
    ),
  }),
  fc.record(
    {
      strategy: fc.oneof(hostileString, fc.constantFrom('naive', 'lock', 'atomic', 'getOrCreate')),
      clients: fc.oneof(fc.integer({ min: -5, max: 3 }), fc.double(), hostileString),
    },
    { requiredKeys: [] },
  ),
);

const pathPiece = fc.oneof(
  fc.nat(),
  fc.integer(),
  fc.constantFrom('0', '-1', '1e3', '9'.repeat(30), '%00', '..%2f', "1' or '1'='1", 'NaN'),
  hostileString.map((s) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return '%ED%A0%80'; // a lone surrogate, percent-encoded as the invalid UTF-8 it would be
    }
  }),
);

describeDialects('hostile input', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  const counts = async () =>
    Promise.all(
      ['books', 'customers', 'orders', 'tags', 'book_tags'].map(async (table) =>
        Number((await pool.query<{ n: number }>(`select count(*) as n from ${table}`))[0]?.n),
      ),
    );

  beforeAll(async () => {
    pool = await t.connect({ max: 8 });
    served = await serveApp(pool);
  });
  afterAll(() => served?.close());

  it('every endpoint answers 2xx or 4xx, never 5xx, and a 4xx writes nothing', async () => {
    const routes: ((id: string) => [method: string, path: string])[] = [
      () => ['POST', '/api/books'],
      (id) => ['POST', `/api/books/${id}/purchase`],
      (id) => ['POST', `/api/books/${id}/tags`],
      () => ['POST', '/api/books/1/tags'],
      () => ['POST', '/api/customers'],
      (id) => ['GET', `/api/customers/${id}/emails`],
      () => ['POST', '/api/lab/oversell'],
      () => ['POST', '/api/lab/duplicates'],
      (id) => ['POST', `/api/lab/${id}`],
      (id) => ['GET', `/api/books?${id}=${id}`],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.nat(routes.length - 1),
        pathPiece,
        anyBody,
        fc.boolean(),
        async (route, id, body, asJson) => {
          const [method, path] = (routes[route] ?? (routes[0] as (typeof routes)[number]))(
            String(id),
          );
          const before = await counts();
          const response = await send(
            `${served.url}${path}`,
            method,
            method === 'GET' ? undefined : asJson ? body : JSON.stringify(body).slice(0, 7),
          );
          expect(
            response.status,
            `${method} ${path} ${JSON.stringify(body)} → ${response.text}`,
          ).toBeLessThan(500);
          expect(response.text).not.toMatch(/\bat .+:\d+:\d+|select |insert into/i);
          if (response.status >= 400) expect(await counts()).toEqual(before);
        },
      ),
      { numRuns: 150 },
    );
    expect(served.serverErrors).toEqual([]);
  });

  it('names and titles full of quotes, %, emoji and SQL are stored and read back byte for byte (or refused with a clear message)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(hostileString, hostileString, async (name, title) => {
        n += 1;
        const email = `user${n}-${Date.now()}@example.com`;
        const signUp = await send(`${served.url}/api/customers`, 'POST', { email, name });
        if (signUp.status === 400) {
          expect(String(signUp.body.error)).toMatch(/^name: /);
        } else {
          expect(signUp.status).toBe(201);
          expect((signUp.body.customer as { name: string }).name).toBe(name.trim());
          const [stored] = await pool.query<{ name: string }>(
            'select name from customers where email = ?'.replace(
              '?',
              t.kind === 'postgres' ? '$1' : '?',
            ),
            [email],
          );
          expect(stored?.name).toBe(name.trim());
        }
        const isbn = `978${String(1_000_000_000 + n).slice(-10)}`;
        const book = await send(`${served.url}/api/books`, 'POST', {
          isbn,
          title,
          price: 1,
          quantity: 1,
        });
        if (book.status === 400) expect(String(book.body.error)).toMatch(/^title: /);
        else {
          expect((book.body.book as { title: string }).title).toBe(title.trim());
          // A tag is stored normalised, or refused naming the item.
          const bookId = (book.body.book as { id: number }).id;
          const tagged = await send(`${served.url}/api/books/${bookId}/tags`, 'POST', {
            tags: [name, title],
          });
          if (tagged.status === 400) expect(String(tagged.body.error)).toMatch(/^tags\.[01]: /);
          else {
            expect(tagged.status).toBe(201);
            expect(tagged.body.linked).toEqual([
              ...new Set([name, title].map((s) => s.trim().toLowerCase().replace(/\s+/g, ' '))),
            ]);
          }
        }
      }),
      { numRuns: 100 },
    );
  });
});
