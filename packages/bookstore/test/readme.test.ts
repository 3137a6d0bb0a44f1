import { fileURLToPath } from 'node:url';
import { describeDialects, describeReadme } from '@racefree/testkit';
import { beforeAll, expect, it } from 'vitest';
import { buyFirstBook, tagTwice } from '../examples/quick-start.js';
import { migrate } from '../src/index.js';
import { insertCustomers } from './helpers.js';

describeReadme(fileURLToPath(new URL('..', import.meta.url)));

describeDialects('the README examples, run', (t) => {
  beforeAll(async () => {
    await migrate(t.connection.db);
  });

  it('migrates, seeds and buys the first book until it is sold out', async () => {
    const [customerId] = (await insertCustomers(t.connection, 1)) as [number];
    const answers: string[] = [];
    // The first seeded book has 25 copies.
    for (let i = 0; i < 26; i++) answers.push(await buyFirstBook(t.connection.db, customerId));
    expect(answers.filter((answer) => /^order \d+$/.test(answer))).toHaveLength(25);
    expect(answers[25]).toBe('sold out');
  });

  it('tags a book, then says the repeat changed nothing', async () => {
    const [book] = await t.connection.query<{ id: number }>('select id from books order by id');
    const { first, again } = await tagTwice(t.connection.db, Number(book?.id));
    expect(first).toMatchObject({
      tags: ['databases', 'sql'],
      created: ['databases', 'sql'],
      linked: ['databases', 'sql'],
    });
    expect(again).toMatchObject({ tags: ['databases', 'sql'], created: [], linked: [] });
  });
});
