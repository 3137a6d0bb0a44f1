// A runnable example of @racefree/hono (the README shows its regions; the tests run it).
// Against any PostgreSQL: DATABASE_URL=postgres://… node --experimental-strip-types examples/notes-app.ts
import { serve } from '@hono/node-server';
import { atomicRequests, nonAtomic } from '@racefree/hono';
import { type AnyPgDatabase, atomic, current, managed, onCommit } from '@racefree/transactions';
import { asc, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { pgTable, serial, text } from 'drizzle-orm/pg-core';
import { Hono } from 'hono';
import pg from 'pg';

export const notes = pgTable('notes', {
  id: serial('id').primaryKey(),
  body: text('body').notNull(),
});

/** The example app: every /api request is one transaction. */
export function createNotesApp(db: AnyPgDatabase): Hono {
  const app = new Hono();
  // #region usage
  app.use('/api/*', atomicRequests(db, { retries: 3 }));

  app.post('/api/notes', async (c) => {
    const { body } = await c.req.json<{ body?: unknown }>();
    // current(db) is this request's transaction.
    await current(db)
      .insert(notes)
      .values({ body: String(body ?? '') });
    // A 4xx rolls the request back: the insert above never happened.
    if (typeof body !== 'string' || body.trim() === '')
      return c.json({ error: 'body: a non-empty string is required' }, 400);
    // Runs after COMMIT, before the client gets its 201; never for a rolled-back request.
    await onCommit(() => console.log(`saved note: ${body}`));
    return c.json({ saved: body }, 201);
  });

  // Opted out: each statement commits on its own, so earlier notes stay if a later one fails.
  app.post('/api/import', nonAtomic(), async (c) => {
    const { bodies } = await c.req.json<{ bodies: string[] }>();
    for (const body of bodies) await atomic(db, (tx) => tx.insert(notes).values({ body }));
    return c.json({ imported: bodies.length });
  });
  // #endregion usage

  app.get('/api/notes', async (c) =>
    c.json(await current(db).select().from(notes).orderBy(asc(notes.id))),
  );
  return app;
}

// Started directly (not imported by the tests): create the table and serve on PORT or 3000.
if (import.meta.url === `file://${process.argv[1]}`) {
  // #region setup
  const db = managed(
    drizzle({ client: new pg.Pool({ connectionString: process.env.DATABASE_URL }) }),
  );
  // #endregion setup
  await db.execute(
    sql`create table if not exists notes (id serial primary key, body text not null)`,
  );
  serve({ fetch: createNotesApp(db).fetch, port: Number(process.env.PORT ?? 3000) }, (info) =>
    console.log(`notes app on http://localhost:${info.port}`),
  );
}
