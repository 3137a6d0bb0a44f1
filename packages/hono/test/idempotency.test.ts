import { describeDialects } from '@racefree/testkit';
import { current, type Database } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import {
  IdempotentResponseTooLargeError,
  type IdempotencyOptions,
  idempotency,
} from '../src/index.js';
import { noteBodies } from './fixtures.js';
import {
  send,
  snapshot,
  storedKeys,
  untilExpired,
  useNotesAndKeys,
} from './idempotency-fixtures.js';

describeDialects('idempotency', (t) => {
  useNotesAndKeys(t);

  const insertNote = (db: Database, body: string) =>
    executeStatement(current(db), sql`insert into notes (body) values (${body})`);

  /** An app whose handlers count their runs and write a note each time. */
  const notesApp = (options: IdempotencyOptions = {}) => {
    const db = t.connection.db;
    const runs: string[] = [];
    const errors: unknown[] = [];
    const outcome = { next: 'ok' as 'ok' | 'throw' | 409 | 500 };
    const app = new Hono();
    app.onError((error, c) => {
      errors.push(error);
      return c.json({ error: String(error) }, 500);
    });
    app.use('/api/*', idempotency(db, { prune: false, ...options }));
    const handler = async (c: import('hono').Context) => {
      const { body } = await c.req.json<{ body: string }>();
      runs.push(body);
      await insertNote(db, body);
      if (outcome.next === 'throw') throw new Error('failed after writing');
      if (outcome.next !== 'ok') return c.json({ error: 'refused' }, outcome.next);
      return c.json({ run: runs.length, body }, 201, {
        location: `/api/notes/${runs.length}`,
        'x-request-id': `request-${runs.length}`,
      });
    };
    app.post('/api/notes', handler);
    app.post('/api/other-notes', handler);
    app.patch('/api/notes', handler);
    app.put('/api/notes', handler);
    return { app, runs, errors, outcome };
  };

  it('runs the first request and replays it: same status, body and content type, one run', async () => {
    const { app, runs } = notesApp();
    const first = await snapshot(await send(app, '/api/notes', { body: 'a' }, 'key-1'));
    const second = await snapshot(await send(app, '/api/notes', { body: 'a' }, 'key-1'));
    const third = await snapshot(await send(app, '/api/notes', { body: 'a' }, 'key-1'));
    expect(first).toEqual({
      status: 201,
      contentType: 'application/json',
      body: JSON.stringify({ run: 1, body: 'a' }),
      replayed: null,
    });
    expect(second).toEqual({ ...first, replayed: 'true' });
    expect(third).toEqual(second);
    expect(runs).toEqual(['a']);
    expect(await noteBodies(t.connection)).toEqual(['a']);
    expect(await storedKeys(t.connection)).toEqual([{ scope: '', key: 'key-1', status: 201 }]);
  });

  it('answers 422 to another body, path or method under a used key, without running', async () => {
    const { app, runs } = notesApp();
    expect((await send(app, '/api/notes', { body: 'a' }, 'key-1')).status).toBe(201);
    const reused = [
      await send(app, '/api/notes', { body: 'b' }, 'key-1'),
      await send(app, '/api/other-notes', { body: 'a' }, 'key-1'),
      await send(app, '/api/notes?draft=1', { body: 'a' }, 'key-1'),
      await send(app, '/api/notes', { body: 'a' }, 'key-1', { method: 'PATCH' }),
    ];
    for (const response of reused) {
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(await response.json()).toMatchObject({ status: 422, title: 'Idempotency-Key reused' });
    }
    expect(runs).toEqual(['a']);
    // The first request's response is still there for its own retries.
    const replay = await send(app, '/api/notes', { body: 'a' }, 'key-1');
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
  });

  it('lets requests without a key, and methods not listed, run every time', async () => {
    const { app, runs } = notesApp();
    for (const _ of [1, 2]) {
      expect((await send(app, '/api/notes', { body: 'no key' })).status).toBe(201);
      expect(
        (await send(app, '/api/notes', { body: 'put' }, 'key-1', { method: 'PUT' })).status,
      ).toBe(201);
    }
    expect(runs).toEqual(['no key', 'put', 'no key', 'put']);
    expect(await storedKeys(t.connection)).toEqual([]);
  });

  it('honours the methods it is given', async () => {
    const { app, runs } = notesApp({ methods: ['put'] });
    await send(app, '/api/notes', { body: 'a' }, 'key-1', { method: 'PUT' });
    await send(app, '/api/notes', { body: 'a' }, 'key-1', { method: 'PUT' });
    await send(app, '/api/notes', { body: 'b' }, 'key-2');
    await send(app, '/api/notes', { body: 'b' }, 'key-2');
    expect(runs).toEqual(['a', 'b', 'b']);
  });

  it('refuses a malformed key with 400 before anything runs', async () => {
    const { app, runs } = notesApp();
    const bad = ['', 'two words', 'x'.repeat(256), 'caf\u00e9', 'tab\there'];
    for (const key of bad) {
      const response = await send(app, '/api/notes', { body: key }, key);
      expect(response.status, JSON.stringify(key)).toBe(400);
      expect(await response.json()).toMatchObject({ title: 'Invalid Idempotency-Key' });
    }
    // Two Idempotency-Key fields arrive joined as "a, b": not one key.
    const twice = await app.request('/api/notes', {
      method: 'POST',
      body: JSON.stringify({ body: 'twice' }),
      headers: [
        ['idempotency-key', 'a'],
        ['idempotency-key', 'b'],
      ],
    });
    expect(twice.status).toBe(400);
    expect(runs).toEqual([]);
    // The edges of what is allowed.
    for (const key of ['x'.repeat(255), '!', '"quoted-per-the-draft"', 'AbC~'])
      expect((await send(app, '/api/notes', { body: key.slice(0, 20) }, key)).status).toBe(201);
    expect(runs).toHaveLength(4);
  });

  describe.each(['throw', 409, 500] as const)('a handler that fails (%s)', (failure) => {
    it('stores nothing, keeps none of its writes, and the next try runs', async () => {
      const { app, runs, outcome } = notesApp();
      outcome.next = failure;
      const failed = await send(app, '/api/notes', { body: 'first try' }, 'key-1');
      expect(failed.status).toBe(failure === 'throw' ? 500 : failure);
      expect(failed.headers.get('idempotent-replayed')).toBeNull();
      expect(await storedKeys(t.connection)).toEqual([]);
      expect(await noteBodies(t.connection)).toEqual([]);

      outcome.next = 'ok';
      const retried = await send(app, '/api/notes', { body: 'first try' }, 'key-1');
      expect(retried.status).toBe(201);
      expect(retried.headers.get('idempotent-replayed')).toBeNull();
      expect(runs).toEqual(['first try', 'first try']);
      expect(await noteBodies(t.connection)).toEqual(['first try']);
      expect(await storedKeys(t.connection)).toEqual([{ scope: '', key: 'key-1', status: 201 }]);
    });
  });

  it('stores nothing for a handler that neither answers nor calls next()', async () => {
    const db = t.connection.db;
    const errors: unknown[] = [];
    const app = new Hono();
    app.onError((error, c) => {
      errors.push(error);
      return c.json({ error: 'no response' }, 500);
    });
    app.use(idempotency(db, { prune: false }));
    app.post('/forgot', async () => {
      await insertNote(db, 'forgot');
    });
    const response = await app.request('/forgot', {
      method: 'POST',
      headers: { 'idempotency-key': 'k' },
    });
    expect(response.status).toBe(500);
    expect(String(errors[0])).toContain('Context is not finalized');
    expect(await noteBodies(t.connection)).toEqual([]);
    expect(await storedKeys(t.connection)).toEqual([]);
  });

  it('keeps scopes apart: the same key under two scopes runs twice, each replays its own', async () => {
    const { app, runs } = notesApp({ scope: (c) => c.req.header('x-user') ?? 'anonymous' });
    const as = (user: string, body: string) =>
      send(app, '/api/notes', { body }, 'key-1', { headers: { 'x-user': user } });
    const ann = await snapshot(await as('ann', 'from ann'));
    const bob = await snapshot(await as('bob', 'from bob'));
    expect(await snapshot(await as('ann', 'from ann'))).toEqual({ ...ann, replayed: 'true' });
    expect(await snapshot(await as('bob', 'from bob'))).toEqual({ ...bob, replayed: 'true' });
    expect(runs).toEqual(['from ann', 'from bob']);
    expect(await storedKeys(t.connection)).toEqual([
      { scope: 'ann', key: 'key-1', status: 201 },
      { scope: 'bob', key: 'key-1', status: 201 },
    ]);
  });

  it('tells keys apart by case, whatever the collation', async () => {
    const { app, runs } = notesApp();
    await send(app, '/api/notes', { body: 'upper' }, 'KEY');
    await send(app, '/api/notes', { body: 'lower' }, 'key');
    expect(runs).toEqual(['upper', 'lower']);
  });

  it('expires a key after ttlMs: the key runs again, even for another request', async () => {
    const { app, runs } = notesApp({ ttlMs: 200 });
    expect((await send(app, '/api/notes', { body: 'a' }, 'key-1')).status).toBe(201);
    await untilExpired(t.connection);
    const again = await send(app, '/api/notes', { body: 'b' }, 'key-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(runs).toEqual(['a', 'b']);
    // The expired row was taken over, not duplicated.
    expect(await storedKeys(t.connection)).toEqual([{ scope: '', key: 'key-1', status: 201 }]);
  });

  it('stores Content-Type always, other headers only when named, Set-Cookie never by default', async () => {
    const build = (storeHeaders?: string[]) => {
      const app = new Hono();
      app.use(idempotency(t.connection.db, { prune: false, storeHeaders }));
      app.post('/login', (c) => {
        c.header('set-cookie', 'session=secret', { append: true });
        c.header('set-cookie', 'theme=dark', { append: true });
        return c.text('welcome', 201, { location: '/me', 'x-request-id': 'r1' });
      });
      return app;
    };
    const plain = build();
    await plain.request('/login', { method: 'POST', headers: { 'idempotency-key': 'k1' } });
    const replay = await plain.request('/login', {
      method: 'POST',
      headers: { 'idempotency-key': 'k1' },
    });
    expect(replay.status).toBe(201);
    expect(await replay.text()).toBe('welcome');
    expect(replay.headers.get('content-type')).toBe('text/plain; charset=UTF-8');
    expect(replay.headers.get('location')).toBeNull();
    expect(replay.headers.get('x-request-id')).toBeNull();
    expect(replay.headers.getSetCookie()).toEqual([]);

    const named = build(['Location', 'set-cookie']);
    await named.request('/login', { method: 'POST', headers: { 'idempotency-key': 'k2' } });
    const withHeaders = await named.request('/login', {
      method: 'POST',
      headers: { 'idempotency-key': 'k2' },
    });
    expect(withHeaders.headers.get('location')).toBe('/me');
    expect(withHeaders.headers.get('x-request-id')).toBeNull();
    expect(withHeaders.headers.getSetCookie()).toEqual(['session=secret', 'theme=dark']);
  });

  it('replays a response without a body, and a redirect', async () => {
    const app = new Hono();
    app.use(idempotency(t.connection.db, { prune: false, storeHeaders: ['location'] }));
    app.post('/empty', (c) => c.body(null, 204));
    app.post('/moved', (c) => c.redirect('/elsewhere', 303));
    for (const path of ['/empty', '/moved']) {
      const request = () =>
        app.request(path, { method: 'POST', headers: { 'idempotency-key': path } });
      const first = await request();
      const replay = await request();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.status).toBe(first.status);
      expect(replay.headers.get('location')).toBe(first.headers.get('location'));
      expect(await replay.text()).toBe(await first.text());
    }
  });

  describe('maxResponseBytes', () => {
    const sized = () => {
      const errors: unknown[] = [];
      const db = t.connection.db;
      const app = new Hono();
      app.onError((error, c) => {
        errors.push(error);
        return c.json({ error: 'too large' }, 500);
      });
      app.use(idempotency(db, { prune: false, maxResponseBytes: 10 }));
      app.post('/echo/:size', async (c) => {
        await insertNote(db, `echo ${c.req.param('size')}`);
        return c.text('x'.repeat(Number(c.req.param('size'))), 201);
      });
      const echo = (size: number) =>
        app.request(`/echo/${size}`, {
          method: 'POST',
          headers: { 'idempotency-key': `k${size}` },
        });
      return { echo, errors };
    };

    it('stores a body of exactly the limit', async () => {
      const { echo } = sized();
      expect(await (await echo(10)).text()).toBe('x'.repeat(10));
      const replay = await echo(10);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.text()).toBe('x'.repeat(10));
    });

    it('fails a larger one whole: an error for onError, no writes, no key', async () => {
      const { echo, errors } = sized();
      expect((await echo(11)).status).toBe(500);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(IdempotentResponseTooLargeError);
      expect(errors[0]).toMatchObject({ code: 'IDEMPOTENT_RESPONSE_TOO_LARGE', limit: 10 });
      expect(await noteBodies(t.connection)).toEqual([]);
      expect(await storedKeys(t.connection)).toEqual([]);
    });
  });

  it('gives the handler the caller’s own lock-wait limit, and leaves none behind', async () => {
    // One connection: whatever the middleware set, the next request would find it there.
    const single = await t.connect({ max: 1 });
    const limit = sql.raw(
      t.kind === 'postgres'
        ? "select current_setting('lock_timeout') as v"
        : 'select @@innodb_lock_wait_timeout as v',
    );
    const read = async () =>
      String((await executeRows<{ v: unknown }>(current(single.db), limit))[0]?.v);
    const before = await read();
    const seen: string[] = [];
    const app = new Hono();
    app.use(idempotency(single.db, { prune: false, waitMs: 3000 }));
    app.post('/limit', async (c) => {
      seen.push(await read());
      return c.text('ok', 201);
    });
    await app.request('/limit', { method: 'POST', headers: { 'idempotency-key': 'k' } });
    await app.request('/limit', { method: 'POST', headers: { 'idempotency-key': 'k2' } });
    expect(seen).toEqual([before, before]);
    expect(await read()).toBe(before);
  });
});
