// A runnable example of idempotency keys (the README shows its regions; the tests run it).
// Against any PostgreSQL: DATABASE_URL=postgres://… node --experimental-strip-types examples/payments-app.ts
import { serve } from '@hono/node-server';
import { atomicRequests, idempotency, installIdempotency } from '@racefree/hono';
import { type AnyPgDatabase, current, managed } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, serial, text } from 'drizzle-orm/pg-core';
import { Hono } from 'hono';
import pg from 'pg';

export const payments = pgTable('payments', {
  id: serial('id').primaryKey(),
  account: text('account').notNull(),
  cents: integer('cents').notNull(),
});

type Env = { Variables: { account: string } };

/** The example app: a payment is charged at most once per Idempotency-Key and account. */
export function createPaymentsApp(db: AnyPgDatabase): Hono<Env> {
  const app = new Hono<Env>();
  // Stands in for your authentication: who is calling.
  app.use('/api/*', async (c, next) => {
    c.set('account', c.req.header('x-account') ?? 'guest');
    await next();
  });
  // #region usage
  app.use('/api/*', atomicRequests(db, { retries: 3 }));
  // After atomicRequests: the key, the handler's writes and the stored response commit together.
  app.use(
    '/api/*',
    idempotency(db, {
      scope: (c) => c.get('account'), // one client can neither replay nor block another's keys
      storeHeaders: ['location'], // replayed with the body; Content-Type always is
    }),
  );

  app.post('/api/payments', async (c) => {
    const { cents } = await c.req.json<{ cents: number }>();
    const [payment] = await current(db)
      .insert(payments)
      .values({ account: c.get('account'), cents })
      .returning();
    return c.json(payment, 201, { location: `/api/payments/${payment?.id}` });
  });
  // #endregion usage
  return app;
}

// Started directly (not imported by the tests): create the tables and serve on PORT or 3000.
if (import.meta.url === `file://${process.argv[1]}`) {
  const db = managed(
    drizzle({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
  );
  // #region install
  await installIdempotency(db); // at start-up: creates racefree_idempotency_keys if missing
  // #endregion install
  await db.execute(
    sql`create table if not exists payments (id serial primary key, account text not null, cents integer not null)`,
  );
  serve({ fetch: createPaymentsApp(db).fetch, port: Number(process.env.PORT ?? 3000) }, (info) =>
    console.log(`payments app on http://localhost:${info.port}`),
  );
}
