import { describeDialects, readmeCode } from '@racefree/testkit';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createNotesApp } from '../examples/notes-app.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('README', () => {
  it('shows the example file word for word, and no code that is not in it', () => {
    const { snippets, unmarked } = readmeCode(packageDir);
    expect(snippets.length).toBeGreaterThan(0);
    for (const snippet of snippets) expect(snippet.block, snippet.marker).toBe(snippet.source);
    expect(unmarked).toEqual([]);
  });
});

// The README's example, run as written, on each PostgreSQL driver.
describeDialects(
  'README example',
  (t) => {
    beforeAll(async () => {
      await t.connection.query('create table notes (id serial primary key, body text not null)');
    });

    it('commits good requests, rolls back the 400, and autocommits the opted-out route', async () => {
      if (t.connection.kind !== 'postgres') throw new Error('the example is PostgreSQL-only');
      const app = createNotesApp(t.connection.db);
      const post = (path: string, body: unknown) =>
        app.request(path, {
          method: 'POST',
          body: JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        });
      expect((await post('/api/notes', { body: 'first' })).status).toBe(201);
      expect((await post('/api/notes', { body: '' })).status).toBe(400);
      expect((await post('/api/import', { bodies: ['a', 'b'] })).status).toBe(200);
      const listed = await (await app.request('/api/notes')).json();
      expect(listed).toEqual([
        { id: expect.any(Number), body: 'first' },
        { id: expect.any(Number), body: 'a' },
        { id: expect.any(Number), body: 'b' },
      ]);
      const rows = await t.connection.query("select body from notes where body = ''");
      expect(rows).toEqual([]);
    });
  },
  { kinds: ['postgres'] },
);
