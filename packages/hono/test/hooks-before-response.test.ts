import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { describeDialects } from '@racefree/testkit';
import { current, onCommit } from '@racefree/transactions';
import { executeStatement } from '@racefree/transactions/internal';
import { captureOnCommit, withRollback } from '@racefree/transactions/testing';
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { atomicRequests } from '../src/index.js';
import { createTables, noteBodies, resetTables } from './fixtures.js';

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describeDialects('atomicRequests: onCommit hooks', (t) => {
  beforeAll(async () => {
    await createTables(t.connection);
  });
  beforeEach(async () => {
    await resetTables(t.connection);
  });

  for (const retries of [0, 2]) {
    it(`run after COMMIT and before the response reaches the client (real HTTP, retries ${retries})`, async () => {
      const events: string[] = [];
      const hookStarted = deferred();
      const releaseHook = deferred();
      const app = new Hono();
      app.use(atomicRequests(t.connection.db, { retries }));
      app.post('/notes', async (c) => {
        await executeStatement(
          current(t.connection.db),
          sql`insert into notes (body) values ('hello')`,
        );
        await onCommit(async () => {
          // Another connection sees the row: the transaction committed before the hook.
          events.push(`hook sees ${JSON.stringify(await noteBodies(t.connection))}`);
          hookStarted.resolve();
          await releaseHook.promise;
          events.push('hook done');
        });
        events.push('handler returned');
        return c.json({ ok: true }, 201);
      });
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
      await new Promise<void>((resolve) => server.once('listening', () => resolve()));
      try {
        const { port } = server.address() as AddressInfo;
        const response = fetch(`http://127.0.0.1:${port}/notes`, { method: 'POST' }).then((r) => {
          events.push('response arrived');
          return r;
        });
        await hookStarted.promise;
        // The hook is holding. Had the response been sent before the hooks ran, it would
        // arrive now; this pause only gives a wrong implementation the chance to show itself.
        await sleep(100);
        expect(events).toEqual(['handler returned', 'hook sees ["hello"]']);
        releaseHook.resolve();
        expect((await response).status).toBe(201);
        expect(events).toEqual([
          'handler returned',
          'hook sees ["hello"]',
          'hook done',
          'response arrived',
        ]);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  }

  it('inside a test transaction the request is a savepoint: nothing persists, hooks are captured', async () => {
    const app = new Hono();
    app.use(atomicRequests(t.connection.db, { retries: 2 }));
    app.post('/notes', async (c) => {
      await executeStatement(current(t.connection.db), sql`insert into notes (body) values ('x')`);
      await onCommit(() => 'welcome email');
      return c.text('created', 201);
    });
    const hooks = await captureOnCommit(() =>
      withRollback(t.connection.db, async () => {
        const response = await app.request('/notes', { method: 'POST' });
        expect(response.status).toBe(201);
      }),
    );
    expect(hooks.map((hook) => hook())).toEqual(['welcome email']);
    expect(await noteBodies(t.connection)).toEqual([]);
  });
});
