import { describeDialects, race, type TestConnection } from '@racefree/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
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
  });
});
