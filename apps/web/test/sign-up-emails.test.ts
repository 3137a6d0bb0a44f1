import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import type { AnyMySqlDatabase } from '@racefree/transactions';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../src/create-app.js';
import { send, serveApp } from './serve-app.js';
import { withQueue } from './with-queue.js';

describeDialects('sign-up and the welcome email', (t) => {
  let pool: TestConnection;
  let queue: Awaited<ReturnType<typeof withQueue>>;
  let served: Awaited<ReturnType<typeof serveApp>>;
  beforeAll(async () => {
    pool = await t.connect({ max: 16 });
    queue = await withQueue(t, pool);
    served = await serveApp(pool, queue.signUp);
  });
  afterAll(async () => {
    await served?.close();
    await queue?.close();
  });

  it('100 concurrent sign-ups of 10 emails: 10 customers, 10 jobs, 10 emails each sent once', async () => {
    const emails = Array.from({ length: 10 }, (_, i) => `reader${i}@example.com`);
    const outcome = await race(100, (caller) =>
      send(`${served.url}/api/customers`, 'POST', {
        email: emails[caller % 10],
        name: `Reader ${caller % 10}`,
      }),
    );
    expect(outcome.errors).toEqual([]);
    const statuses = outcome.results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 200)).toHaveLength(90);
    const [customers] = await pool.query<{ n: number }>('select count(*) as n from customers');
    expect(Number(customers?.n)).toBe(10);

    await queue.drain();
    expect(queue.sent.sort()).toEqual([...emails].sort());
    const rows = await pool.query<{ customer_id: number; n: number }>(
      "select customer_id, count(*) as n from sent_emails where kind = 'welcome' group by customer_id",
    );
    expect(rows).toHaveLength(10);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);

    // At-least-once delivery: the same job delivered again sends nothing more.
    const [first] = await pool.query<{ id: number; email: string }>(
      'select id, email from customers order by id limit 1',
    );
    await queue.jobs.enqueue(pool.db, 'send_welcome_email', {
      customerId: Number(first?.id),
      email: String(first?.email),
    });
    await queue.drain();
    expect(queue.sent).toHaveLength(10);
    // graphile-worker completes jobs in batches: "done" lands shortly after the handler returns.
    await expect.poll(() => queue.queuedJobs('send_welcome_email'), { timeout: 10_000 }).toBe(0);
    const response = await send(`${served.url}/api/customers/${first?.id}/emails`, 'GET');
    expect(response.body.emails).toEqual([{ kind: 'welcome', sentAt: expect.any(String) }]);
  });

  it('a sign-up whose request fails leaves neither customer nor job', async () => {
    const before = await queue.queuedJobs('send_welcome_email');
    const response = await send(`${served.url}/api/customers`, 'POST', {
      email: 'not-an-email',
      name: 'X',
    });
    expect(response.status).toBe(400);
    expect(await queue.queuedJobs('send_welcome_email')).toBe(before);

    // Refused only after the sign-up created the customer and enqueued its job: the request's
    // rollback must take both with it.
    let created: boolean | undefined;
    const logged: unknown[] = [];
    const failing = createApp({
      db: pool.db,
      signUp: async (db, input) => {
        ({ created } = await queue.signUp(db, input));
        throw new Error('the request failed after the sign-up');
      },
      logError: (error) => logged.push(error),
    });
    const failed = await failing.request('/api/customers', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'rolled-back@example.com', name: 'Gone' }),
    });
    expect(failed.status).toBe(500);
    expect(created).toBe(true);
    expect(logged).toEqual([new Error('the request failed after the sign-up')]);
    // On MySQL a leaked outbox row would only reach the queue through the relay: run it.
    if (t.kind === 'mysql') await queue.jobs.relay(pool.db as AnyMySqlDatabase);
    expect(await queue.queuedJobs('send_welcome_email')).toBe(before);
    const [customers] = await pool.query<{ n: number }>(
      "select count(*) as n from customers where email = 'rolled-back@example.com'",
    );
    expect(Number(customers?.n)).toBe(0);
  });
});
