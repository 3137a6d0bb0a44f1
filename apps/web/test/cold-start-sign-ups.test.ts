import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { loadDatabaseConfig, migrate } from '@racefree/bookstore';
import { createPostgresTestDatabase, postgresAdminUrl, type TestDatabase } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../src/create-app.js';
import { openDatabase, type OpenDatabase } from '../src/open-database.js';
import { createSignUp } from '../src/sign-up-service.js';
import { send } from './serve-app.js';

// Regression: a burst of sign-ups on a freshly started process (every restart under load)
// with more concurrent sign-ups than pooled connections. Each sign-up's transaction holds a
// connection; when the job queue had to probe the database's identity on *another* pooled
// connection, every connection waited for one that never came free — a deadlock that never
// ended (found by `pnpm reliability`: the restarted web answered nothing).
let database: TestDatabase;
let opened: OpenDatabase;
let service: Awaited<ReturnType<typeof createSignUp>>;

beforeAll(async () => {
  database = await createPostgresTestDatabase(postgresAdminUrl(), 'coldstart');
  const config = loadDatabaseConfig({ DATABASE_URL: database.url });
  opened = await openDatabase(config, { max: 6 });
  await migrate(opened.db);
  service = await createSignUp(opened, config);
});
afterAll(async () => {
  await service?.close();
  await opened?.close();
  await database?.drop();
});

it('64 concurrent sign-up requests on a cold process with a pool of 6 all complete', async () => {
  const app = createApp({ db: opened.db, signUp: service.signUp });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const signUps = Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        send(`${url}/api/customers`, 'POST', { email: `cold${i}@example.com`, name: 'Cold' }),
      ),
    );
    // The deadlock this guards against never resolves, so a deadline far above the ~1 s the
    // sign-ups take keeps the test's strength without failing a loaded machine.
    const deadline = new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 45_000));
    const outcome = await Promise.race([signUps, deadline]);
    expect(outcome).not.toBe('stuck');
    expect((outcome as { status: number }[]).map((r) => r.status)).toEqual(Array(64).fill(201));
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}, 90_000);
