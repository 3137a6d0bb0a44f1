import { Barrier, describeDialects } from '@racefree/testkit';
import { current, onCommit, RetryExhaustedError } from '@racefree/transactions';
import { activeTransaction, executeStatement } from '@racefree/transactions/internal';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { every } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { validator } from 'hono/validator';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { atomicRequests, isAtomicRequest, nonAtomic } from '../src/index.js';
import { alwaysDeadlocks, counters, createTables, noteBodies, resetTables } from './fixtures.js';

// Every behaviour twice: without retries the middleware runs the request through Hono's own
// next(); with retries it dispatches each attempt itself. Both must look the same from outside.
const MODES = [
  { name: 'without retries', retries: 0 },
  { name: 'with retries', retries: 3 },
] as const;

describeDialects('atomicRequests', (t) => {
  beforeAll(async () => {
    await createTables(t.connection);
  });
  beforeEach(async () => {
    await resetTables(t.connection);
  });

  const insertNote = (body: string) =>
    executeStatement(current(t.connection.db), sql`insert into notes (body) values (${body})`);

  describe.each(MODES)('$name', ({ retries }) => {
    const hooks: string[] = [];
    const errors: unknown[] = [];
    const app = () => {
      hooks.length = 0;
      errors.length = 0;
      const db = t.connection.db;
      const api = new Hono();
      api.onError((error, c) => {
        errors.push(error);
        return error instanceof HTTPException
          ? error.getResponse()
          : c.json({ error: String(error) }, 500);
      });
      api.use(
        '/api/*',
        atomicRequests(db, {
          retries,
          skip: (c) => c.req.header('x-no-transaction') === '1',
        }),
      );
      api.post('/api/notes', async (c) => {
        const { body } = await c.req.json<{ body: string }>();
        await insertNote(body);
        await onCommit(() => hooks.push(`committed ${body}`));
        return c.json({ atomic: isAtomicRequest(c), inTransaction: !!activeTransaction(db) }, 201);
      });
      api.post('/api/notes/throw', async () => {
        await insertNote('thrown');
        await onCommit(() => hooks.push('must not run'));
        throw new Error('handler failed after writing');
      });
      api.post('/api/notes/conflict', async (c) => {
        await insertNote('conflict');
        await onCommit(() => hooks.push('must not run'));
        return c.json({ error: 'already exists' }, 409);
      });
      api.post('/api/notes/missing', async () => {
        await insertNote('missing');
        throw new HTTPException(404, { message: 'no such thing' });
      });
      api.post('/api/notes/forgot', async () => {
        await insertNote('forgot');
        // Neither returns a response nor calls next(): Hono answers 500.
      });
      api.post('/api/autocommit', nonAtomic(), async (c) => {
        await insertNote('autocommitted');
        if (!isAtomicRequest(c) && !activeTransaction(db))
          throw new Error('failed after the write');
        return c.text('unexpectedly atomic');
      });
      api.post('/api/wrapped', every(nonAtomic()), async (c) => {
        await insertNote('wrapped');
        return c.text('ok');
      });
      // A sub-app with its own error handler: Hono renders its errors inside the sub-app.
      const sub = new Hono();
      sub.onError((error, c) => c.json({ sub: String(error) }, 418));
      sub.post('/fail', async () => {
        await insertNote('sub');
        throw new Error('sub-app failed');
      });
      api.route('/api/sub', sub);
      api.post('/api/redirect', async (c) => {
        await insertNote('redirected');
        return c.redirect('/elsewhere', 303);
      });
      return api;
    };
    const post = (api: Hono, path: string, body?: unknown, headers?: Record<string, string>) =>
      api.request(path, {
        method: 'POST',
        body: JSON.stringify(body ?? {}),
        headers: { 'content-type': 'application/json', ...headers },
      });

    it('commits a successful request, inside one transaction, and runs its hooks', async () => {
      const api = app();
      const response = await post(api, '/api/notes', { body: 'kept' });
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ atomic: true, inTransaction: true });
      expect(await noteBodies(t.connection)).toEqual(['kept']);
      expect(hooks).toEqual(['committed kept']);
      // 3xx is not a failure: a redirect after a write commits.
      expect((await post(api, '/api/redirect')).status).toBe(303);
      expect(await noteBodies(t.connection)).toEqual(['kept', 'redirected']);
    });

    it('a handler that writes and throws leaves nothing, and its hooks never run', async () => {
      const api = app();
      const response = await post(api, '/api/notes/throw');
      expect(response.status).toBe(500);
      expect(await response.json()).toEqual({ error: 'Error: handler failed after writing' });
      expect(errors).toHaveLength(1); // the app's error handler ran once
      expect(await noteBodies(t.connection)).toEqual([]);
      expect(hooks).toEqual([]);
    });

    it('a handler that writes and returns 409 leaves nothing; the client gets the 409', async () => {
      const api = app();
      const response = await post(api, '/api/notes/conflict');
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual({ error: 'already exists' });
      expect(await noteBodies(t.connection)).toEqual([]);
      expect(hooks).toEqual([]);
      expect(errors).toEqual([]);
    });

    it('a handler that forgets to answer leaves nothing', async () => {
      const response = await post(app(), '/api/notes/forgot');
      expect(response.status).toBe(500);
      expect(await noteBodies(t.connection)).toEqual([]);
    });

    it('an HTTPException rolls back and renders as usual', async () => {
      const response = await post(app(), '/api/notes/missing');
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('no such thing');
      expect(await noteBodies(t.connection)).toEqual([]);
    });

    it("an error rendered by a sub-app's own onError still rolls back", async () => {
      const response = await post(app(), '/api/sub/fail');
      expect(response.status).toBe(418);
      expect(await response.json()).toEqual({ sub: 'Error: sub-app failed' });
      expect(errors).toEqual([]);
      expect(await noteBodies(t.connection)).toEqual([]);
    });

    it('nonAtomic() routes autocommit: their write survives a later error', async () => {
      const response = await post(app(), '/api/autocommit');
      expect(response.status).toBe(500);
      expect(await noteBodies(t.connection)).toEqual(['autocommitted']);
    });

    it('skip(c) opts a request out the same way', async () => {
      const response = await post(app(), '/api/notes/throw', {}, { 'x-no-transaction': '1' });
      expect(response.status).toBe(500);
      expect(await noteBodies(t.connection)).toEqual(['thrown']);
    });

    it('a nonAtomic() marker it cannot see fails loudly instead of running atomically', async () => {
      const response = await post(app(), '/api/wrapped');
      expect(response.status).toBe(500);
      expect(errors[0]).toMatchObject({ code: 'NON_ATOMIC_IGNORED' });
      expect(await noteBodies(t.connection)).toEqual([]);
    });

    it('an unmatched path is a 404 and opens nothing it leaves behind', async () => {
      const response = await post(app(), '/api/nothing-here');
      expect(response.status).toBe(404);
    });
  });

  describe('retries', () => {
    // Two requests lock the two counters in opposite order. A barrier after the first lock
    // (first attempt only: the barrier is one-shot) guarantees each holds one row when it asks
    // for the other — a real deadlock, which the server breaks by failing one transaction.
    const deadlockApp = (retries: number) => {
      const barrier = new Barrier(2);
      const attempts: string[] = [];
      const hooks: string[] = [];
      const api = new Hono();
      api.onError((error, c) => c.json({ error: String(error) }, 500));
      api.use(atomicRequests(t.connection.db, { retries }));
      api.post(
        '/transfer',
        // The validator reads the JSON body on every attempt: Hono caches it on the request.
        validator('json', (value) => value as { name: string; first: number; second: number }),
        async (c) => {
          const { name, first, second } = c.req.valid('json');
          const attempt = attempts.filter((a) => a === name).length + 1;
          attempts.push(name);
          const tx = current(t.connection.db);
          await executeStatement(tx, sql`update counters set n = n + 1 where id = ${first}`);
          if (attempt === 1) await barrier.wait();
          await executeStatement(tx, sql`update counters set n = n + 10 where id = ${second}`);
          await onCommit(() => hooks.push(`${name} attempt ${attempt}`));
          return c.json({ name, attempt });
        },
      );
      return { api, attempts, hooks };
    };
    const transfer = (api: Hono, name: string, first: number, second: number) =>
      api.request('/transfer', {
        method: 'POST',
        body: JSON.stringify({ name, first, second }),
        headers: { 'content-type': 'application/json' },
      });

    it('re-runs a deadlocked request whole: both requests end in 200', async () => {
      const { api, attempts, hooks } = deadlockApp(3);
      const [a, b] = await Promise.all([transfer(api, 'a', 1, 2), transfer(api, 'b', 2, 1)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      const bodies = (await Promise.all([a.json(), b.json()])) as {
        name: string;
        attempt: number;
      }[];
      // Exactly one request was the deadlock victim and ran a second time, with the same body.
      expect(attempts).toHaveLength(3);
      expect(bodies.map((body) => body.attempt).sort()).toEqual([1, 2]);
      expect(bodies.map((body) => body.name)).toEqual(['a', 'b']);
      // Only the attempts that committed ran their hooks; the victim's first attempt's did not.
      expect(hooks.sort()).toEqual(bodies.map((body) => `${body.name} attempt ${body.attempt}`));
      // Both committed once: each counter got +1 from one request and +10 from the other.
      expect(await counters(t.connection)).toEqual({ 1: 11, 2: 11 });
    });

    it('without retries the deadlock victim gets a 500 and leaves nothing', async () => {
      const { api, attempts } = deadlockApp(0);
      const responses = await Promise.all([transfer(api, 'a', 1, 2), transfer(api, 'b', 2, 1)]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 500]);
      expect(attempts).toHaveLength(2);
      // Only the winner's two updates are there: +1 on its first counter, +10 on its second.
      expect([
        { 1: 1, 2: 10 },
        { 1: 10, 2: 1 },
      ]).toContainEqual(await counters(t.connection));
    });

    it('gives up after the last retry: the error handler gets RetryExhaustedError, nothing stays', async () => {
      const seen: unknown[] = [];
      let attempts = 0;
      const api = new Hono();
      api.onError((error, c) => {
        seen.push(error);
        return c.json({ error: 'try again later' }, 503);
      });
      api.use(atomicRequests(t.connection.db, { retries: { retries: 2, baseDelayMs: 1 } }));
      api.post('/always', async () => {
        attempts += 1;
        await insertNote(`attempt ${attempts}`);
        await executeStatement(current(t.connection.db), alwaysDeadlocks(t.kind));
        return new Response('unreachable');
      });
      const response = await api.request('/always', { method: 'POST' });
      expect(response.status).toBe(503);
      expect(attempts).toBe(3);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(RetryExhaustedError);
      expect(seen[0]).toMatchObject({ attempts: 3 });
      expect(await noteBodies(t.connection)).toEqual([]);
    });
  });
});
