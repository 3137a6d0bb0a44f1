import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { InvalidArgumentError } from '@racefree/transactions';
import { beforeAll, expect, it } from 'vitest';
import { listBookTags, MAX_TAGS_PER_CALL, migrate, NotFoundError, tagBook } from '../src/index.js';
import { insertBook } from './helpers.js';

const CALLERS = 40;
const TAG_POOL = 30;
const TAGS_PER_CALLER = 12;

describeDialects('tagBook', (t) => {
  const count = async (query: string) =>
    Number((await t.connection.query<{ n: number | string }>(query))[0]?.n);
  const tagCount = () => count('select count(*) as n from tags');

  beforeAll(async () => {
    await migrate(t.connection.db);
  });

  it('creates and links the tags, then says a repeat changed nothing', async () => {
    const bookId = await insertBook(t.connection, 1);
    const first = await tagBook(t.connection.db, { bookId, tags: ['sql', 'c++', 'node.js'] });
    expect(first).toEqual({
      bookId,
      tags: ['c++', 'node.js', 'sql'],
      created: ['sql', 'c++', 'node.js'],
      linked: ['sql', 'c++', 'node.js'],
    });
    const again = await tagBook(t.connection.db, { bookId, tags: ['node.js', 'sql', 'c++'] });
    expect(again).toEqual({ bookId, tags: first.tags, created: [], linked: [] });
    // Another book: the tags exist (not created), the links are new.
    const otherId = await insertBook(t.connection, 1);
    expect(await tagBook(t.connection.db, { bookId: otherId, tags: ['sql', 'graphs'] })).toEqual({
      bookId: otherId,
      tags: ['graphs', 'sql'],
      created: ['graphs'],
      linked: ['sql', 'graphs'],
    });
    expect(await count(`select count(*) as n from book_tags where book_id = ${bookId}`)).toBe(3);
    const listed = await listBookTags(t.connection.db);
    expect(listed.get(bookId)).toEqual(['c++', 'node.js', 'sql']);
    expect(listed.get(otherId)).toEqual(['graphs', 'sql']);
  });

  it('normalises names: case, outer and repeated spaces; repeats count once', async () => {
    const bookId = await insertBook(t.connection, 1);
    const result = await tagBook(t.connection.db, {
      bookId,
      tags: [' Distributed   Systems ', 'distributed systems', 'DISTRIBUTED SYSTEMS'],
    });
    expect(result.tags).toEqual(['distributed systems']);
    expect(result.linked).toEqual(['distributed systems']);
    expect(await count("select count(*) as n from tags where name = 'distributed systems'")).toBe(
      1,
    );
  });

  it('refuses bad input before any SQL, and an unknown book with nothing written', async () => {
    const bookId = await insertBook(t.connection, 1);
    const before = await tagCount();
    const bad: [unknown, RegExp][] = [
      ['sql', /^tags must be a list/],
      [[], /^tags must be a list/],
      [Array.from({ length: MAX_TAGS_PER_CALL + 1 }, (_, i) => `t${i}`), /^tags must be a list/],
      [['ok', '   '], /^tags\[1\]/],
      [['ok', 'x'.repeat(41)], /^tags\[1\]/],
      [['ok', 42], /^tags\[1\]/],
      [['café'], /^tags\[0\]/],
    ];
    for (const [tags, message] of bad) {
      const error = await tagBook(t.connection.db, { bookId, tags: tags as string[] }).catch(
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(tags)).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toMatch(message);
    }
    const missing = await tagBook(t.connection.db, {
      bookId: 2_000_000_000,
      tags: ['never-created'],
    }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ entity: 'book', id: 2_000_000_000 });
    expect(await tagCount()).toBe(before);
  });

  it(`${CALLERS} callers tagging one book with overlapping tags: each tag and link once, each reported created once`, async () => {
    const pool: TestConnection = await t.connect({ max: 16 });
    const bookId = await insertBook(t.connection, 1);
    const names = Array.from({ length: TAG_POOL }, (_, i) => `race-${t.kind}-${i}`);
    // Each caller a different overlapping subset, in its own (shuffled) order: the order a
    // hand-written multi-row INSERT would lock in, and deadlock on.
    const subsets = Array.from({ length: CALLERS }, () => shuffle(names).slice(0, TAGS_PER_CALLER));
    const outcome = await race(CALLERS, (caller) =>
      tagBook(pool.db, { bookId, tags: subsets[caller] as string[] }),
    );
    expect(outcome.errors).toEqual([]);
    const asked = new Set(subsets.flat());
    const created = outcome.results.flatMap((r) => r.created);
    const linked = outcome.results.flatMap((r) => r.linked);
    expect(created.sort()).toEqual([...asked].sort());
    expect(linked.sort()).toEqual([...asked].sort());
    expect(await count(`select count(*) as n from tags where name like 'race-${t.kind}-%'`)).toBe(
      asked.size,
    );
    expect(await count(`select count(*) as n from book_tags where book_id = ${bookId}`)).toBe(
      asked.size,
    );
    // Every caller was answered with every tag it asked for.
    for (const [caller, result] of outcome.results.entries())
      expect(result.tags).toEqual(expect.arrayContaining(subsets[caller] as string[]));
  });
});

function shuffle<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
