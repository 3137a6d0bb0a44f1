import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { send, serveApp } from './serve-app.js';

const CLIENTS = 40;
const TAG_POOL = 24;
const TAGS_PER_CLIENT = 10;

describeDialects('POST /api/books/:id/tags', (t) => {
  let pool: TestConnection;
  let served: Awaited<ReturnType<typeof serveApp>>;
  let url: string;
  const count = async (query: string) =>
    Number((await pool.query<{ n: number | string }>(query))[0]?.n);
  const addBook = async (isbn: string) => {
    const { body } = await send(`${url}/api/books`, 'POST', {
      isbn,
      title: `Tagged ${isbn}`,
      price: 10,
      quantity: 1,
    });
    return (body.book as { id: number }).id;
  };
  const tag = (bookId: number | string, body: unknown) =>
    send(`${url}/api/books/${bookId}/tags`, 'POST', body);

  beforeAll(async () => {
    pool = await t.connect({ max: 16 });
    served = await serveApp(pool);
    url = served.url;
  });
  afterAll(() => served?.close());

  it('tags a book (201), and the same tags again change nothing and say so (200)', async () => {
    const bookId = await addBook('978-1-4493-7332-0');
    const first = await tag(bookId, { tags: ['Databases', 'sql', 'SQL'] });
    expect(first).toMatchObject({
      status: 201,
      body: {
        bookId,
        tags: ['databases', 'sql'],
        created: ['databases', 'sql'],
        linked: ['databases', 'sql'],
      },
    });
    const again = await tag(bookId, { tags: ['sql', 'databases'] });
    expect(again).toMatchObject({
      status: 200,
      body: { bookId, tags: ['databases', 'sql'], created: [], linked: [] },
    });
    const more = await tag(bookId, { tags: ['sql', 'internals'] });
    expect(more).toMatchObject({
      status: 201,
      body: {
        tags: ['databases', 'internals', 'sql'],
        created: ['internals'],
        linked: ['internals'],
      },
    });
    expect(await count(`select count(*) as n from book_tags where book_id = ${bookId}`)).toBe(3);
  });

  it('bad input → 400 naming the field; unknown book → 404; nothing written', async () => {
    const bookId = await addBook('978-0-13-110362-7');
    const tagsBefore = await count('select count(*) as n from tags');
    const cases: [unknown, RegExp][] = [
      [{ tags: 'sql' }, /^tags: must be a list/],
      [{}, /^tags: must be a list/],
      [{ tags: [] }, /^tags: must name at least one tag/],
      [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, /^tags: must name at most 20/],
      [{ tags: ['ok', ''] }, /^tags\.1: must not be empty/],
      [{ tags: ['   '] }, /^tags\.0: must not be empty/],
      [{ tags: ['x'.repeat(41)] }, /^tags\.0: must be at most 40/],
      [{ tags: ['ok', 7] }, /^tags\.1: must be a string/],
      [{ tags: ['<script>'] }, /^tags\.0: may hold only/],
      [[], /^body/],
    ];
    for (const [body, message] of cases) {
      const answer = await tag(bookId, body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(String(answer.body.error), JSON.stringify(body)).toMatch(message);
    }
    expect((await tag(999_999, { tags: ['orphan'] })).status).toBe(404);
    expect((await tag('abc', { tags: ['orphan'] })).status).toBe(404);
    expect(await count('select count(*) as n from tags')).toBe(tagsBefore);
    expect(await count(`select count(*) as n from book_tags where book_id = ${bookId}`)).toBe(0);
    expect(served.serverErrors).toEqual([]);
  });

  it(`${CLIENTS} clients tagging one book at once with overlapping tags: each tag and link once, created once per tag`, async () => {
    const bookId = await addBook('978-0-262-03384-8');
    const names = Array.from({ length: TAG_POOL }, (_, i) => `http-race-${i}`);
    // Client c takes TAGS_PER_CLIENT names from offset 5c (wrapping), odd clients in reverse:
    // overlapping sets, asked for in crossing orders.
    const subsets = Array.from({ length: CLIENTS }, (_, client) => {
      const picked = Array.from(
        { length: TAGS_PER_CLIENT },
        (_, i) => names[(client * 5 + i) % TAG_POOL] as string,
      );
      return client % 2 ? picked.reverse() : picked;
    });
    const outcome = await race(CLIENTS, (client) => tag(bookId, { tags: subsets[client] }));
    expect(outcome.errors).toEqual([]);
    const statuses = outcome.results.map((answer) => answer.status);
    expect(statuses.filter((status) => status !== 201 && status !== 200)).toEqual([]);
    const asked = [...new Set(subsets.flat())].sort();
    const bodies = outcome.results.map(
      (answer) => answer.body as { tags: string[]; created: string[]; linked: string[] },
    );
    expect(bodies.flatMap((body) => body.created).sort()).toEqual(asked);
    expect(bodies.flatMap((body) => body.linked).sort()).toEqual(asked);
    bodies.forEach((body, client) => {
      expect(body.tags).toEqual(expect.arrayContaining(subsets[client] as string[]));
    });
    expect(await count("select count(*) as n from tags where name like 'http-race-%'")).toBe(
      asked.length,
    );
    expect(await count(`select count(*) as n from book_tags where book_id = ${bookId}`)).toBe(
      asked.length,
    );
    expect(served.serverErrors).toEqual([]);
  });
});
