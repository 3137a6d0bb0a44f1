import { timingSafeEqual } from 'node:crypto';
import { bookstoreTables, runStatement, seed } from '@racefree/bookstore';
import { mysqlIdempotencyTable, pgIdempotencyTable } from '@racefree/hono';
import { atomic, type Database } from '@racefree/transactions';
import { is, sql } from 'drizzle-orm';
import { PgDatabase } from 'drizzle-orm/pg-core';
import type { Context, Hono } from 'hono';
import { HttpError } from './validation.js';

/**
 * Demo admin actions — reset (empty every table) and reseed — which exist only when a token is
 * configured (ADMIN_TOKEN) and answer only to `Authorization: Bearer <token>`. Without a token
 * they are not routes at all (404): a public demo cannot be wiped by a stranger.
 */
export function addAdminRoutes(app: Hono, db: Database, token: string | undefined): void {
  if (!token) return;
  if (token.length < 16) throw new Error('ADMIN_TOKEN must be at least 16 characters');
  const expected = Buffer.from(token);
  const authorize = (c: Context) => {
    const given = Buffer.from((c.req.header('authorization') ?? '').replace(/^Bearer /, ''));
    // Constant-time comparison: the answer's timing must not reveal how much of the token matched.
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new HttpError(401, 'Admin actions need Authorization: Bearer <ADMIN_TOKEN>');
  };
  app.post('/api/admin/reset', async (c) => {
    authorize(c);
    const t = bookstoreTables(db);
    // The stored answers go too: a key kept across a reset would replay an order that no
    // longer exists instead of buying again.
    const keys = is(db, PgDatabase) ? pgIdempotencyTable : mysqlIdempotencyTable;
    await atomic(db, async (tx) => {
      for (const table of [
        t.orders,
        t.sentEmails,
        t.customers,
        t.bookTags,
        t.tags,
        t.books,
        t.labSignUps,
        t.labSignUpsUnkeyed,
        keys,
      ])
        await runStatement(tx, sql`delete from ${table}`);
    });
    return c.json({ reset: true });
  });
  app.post('/api/admin/reseed', async (c) => {
    authorize(c);
    const books = await seed(db);
    return c.json({ books: books.length });
  });
}
