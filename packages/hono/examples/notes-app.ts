// A runnable example of @racefree/hono (the README shows this file). Run it against any
// PostgreSQL: DATABASE_URL=postgres://… npx tsx examples/notes-app.ts
import { serve } from '@hono/node-server';
import { type AnyPgDatabase, atomic, current, onCommit } from '@racefree/transactions';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/postgres-js';
import { Hono } from 'hono';
import postgres from 'postgres';
import { atomicRequests, nonAtomic } from '@racefree/hono';

/** The example app: every /api request is one transaction. */
export function createNotesApp(db: AnyPgDatabase): Hono {
  const app = new Hono();
  app.use('/api/*', atomicRequests(db, { retries: 3 }));

  app.post('/api/notes', async (c) => {
    const { body } = await c.req.json<{ body?: unknown }>();
    // current(db) is this request's transaction.
    await current(db).execute(sql`insert into notes (body) values (${String(body ?? '')})`);
    // A 4xx rolls the request back: the insert above never happened.
    if (typeof body !== 'string' || body.trim() === '')
      return c.json({ error: 'body: a non-empty string is required' }, 400);
    // Runs after COMMIT, before the client gets its 201; never for a rolled-back request.
    await onCommit(() => console.log(`saved note: ${body}`));
    return c.json({ saved: body }, 201);
  });

  app.get('/api/notes', async (c) => {
    const notes = await current(db).execute<{ id: number; body: string }>(
      sql`select id, body from notes order by id`,
    );
    return c.json([...notes]);
  });

  // Opted out: each statement commits on its own, so the log line stays even if a later step fails.
  app.post('/api/import', nonAtomic(), async (c) => {
    const { bodies } = await c.req.json<{ bodies: string[] }>();
    for (const body of bodies) {
      await atomic(db, (tx) => tx.execute(sql`insert into notes (body) values (${body})`));
    }
    return c.json({ imported: bodies.length });
  });

  return app;
}

// Started directly (not imported by the tests): create the table and serve on PORT or 3000.
if (import.meta.url === `file://${process.argv[1]}`) {
  const db = drizzle({
    client: postgres(process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'),
  });
  await db.execute(
    sql`create table if not exists notes (id serial primary key, body text not null)`,
  );
  serve({ fetch: createNotesApp(db).fetch, port: Number(process.env.PORT ?? 3000) }, (info) =>
    console.log(`notes app on http://localhost:${info.port}`),
  );
}
