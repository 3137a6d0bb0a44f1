import { describeDialects } from '@racefree/testkit';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { createNotesApp } from '../examples/notes-app.js';

// The README's example, run as written.
describeDialects(
  'README example',
  (t) => {
    beforeAll(async () => {
      await executeStatement(
        t.connection.db,
        sql`create table notes (id serial primary key, body text not null)`,
      );
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
      const rows = await executeRows(t.connection.db, sql`select body from notes where body = ''`);
      expect(rows).toEqual([]);
    });
  },
  { drivers: ['postgres-js'] },
);
