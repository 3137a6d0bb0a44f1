import { describeDialects, describeReadme } from '@racefree/testkit';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { createNotesApp } from '../examples/notes-app.js';
import { createPaymentsApp } from '../examples/payments-app.js';
import * as schema from '../examples/schema.js';
import { installIdempotency, pgIdempotencyTable } from '../src/index.js';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describeReadme(packageDir);

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

// The idempotency example, run as written, on each PostgreSQL driver.
describeDialects(
  'README idempotency example',
  (t) => {
    beforeAll(async () => {
      await installIdempotency(t.connection.db);
      await t.connection.query(
        'create table payments (id serial primary key, account text not null, cents integer not null)',
      );
    });

    it('charges once per key and account, replays with its Location, refuses another amount', async () => {
      if (t.connection.kind !== 'postgres') throw new Error('the example is PostgreSQL-only');
      const app = createPaymentsApp(t.connection.db);
      const pay = (key: string, cents: number, account = 'ann') =>
        app.request('/api/payments', {
          method: 'POST',
          body: JSON.stringify({ cents }),
          headers: {
            'content-type': 'application/json',
            'idempotency-key': key,
            'x-account': account,
          },
        });
      const first = await pay('pay-1', 500);
      expect(first.status).toBe(201);
      const charged = await first.json();
      expect(charged).toEqual({ id: expect.any(Number), account: 'ann', cents: 500 });
      const retried = await pay('pay-1', 500);
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBe('true');
      expect(retried.headers.get('location')).toBe(first.headers.get('location'));
      expect(await retried.json()).toEqual(charged);
      expect((await pay('pay-1', 700)).status).toBe(422);
      expect((await pay('pay-1', 500, 'bob')).status).toBe(201);
      const rows = await t.connection.query('select account, cents from payments order by id');
      expect(rows).toEqual([
        { account: 'ann', cents: 500 },
        { account: 'bob', cents: 500 },
      ]);
    });

    it('the schema file hands drizzle-kit the table installIdempotency creates', () => {
      expect(schema.pgIdempotencyTable).toBe(pgIdempotencyTable);
    });
  },
  { kinds: ['postgres'] },
);
