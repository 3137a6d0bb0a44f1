import { describeDialects } from '@racefree/testkit';
import { getTableConfig as mysqlTableConfig } from 'drizzle-orm/mysql-core';
import { getTableConfig as pgTableConfig } from 'drizzle-orm/pg-core';
import type { MySql2Database } from 'drizzle-orm/mysql2';
import type { PgDatabase } from 'drizzle-orm/pg-core';
import { Hono } from 'hono';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  IdempotencyTableMissingError,
  type IdempotencyOptions,
  idempotency,
  installIdempotency,
  mysqlIdempotencyTable,
  pgIdempotencyTable,
  pruneIdempotencyKeys,
} from '../src/index.js';
import { deleteKeys, storedKeys, until } from './idempotency-fixtures.js';

describeDialects('idempotency table', (t) => {
  beforeAll(async () => {
    // Three at once, as app processes starting together would.
    await Promise.all([1, 2, 3].map(() => installIdempotency(t.connection.db)));
  });
  beforeEach(async () => {
    await deleteKeys(t.connection);
  });

  /** An app that stores `{ key }` for each keyed POST. */
  const keysApp = (options: IdempotencyOptions = {}) => {
    const errors: unknown[] = [];
    const app = new Hono();
    app.onError((error, c) => {
      errors.push(error);
      return c.json({ error: String(error) }, 500);
    });
    app.use(idempotency(t.connection.db, { prune: false, ...options }));
    app.post('/keys', (c) => c.json({ key: c.req.header('idempotency-key') }, 201));
    const store = async (key: string) =>
      (await app.request('/keys', { method: 'POST', headers: { 'idempotency-key': key } })).status;
    return { store, errors };
  };

  const expiredCount = async () => {
    const now = t.kind === 'postgres' ? 'statement_timestamp()' : 'UTC_TIMESTAMP(6)';
    const [row] = await t.connection.query<{ n: unknown }>(
      `select count(*) as n from racefree_idempotency_keys where expires_at <= ${now}`,
    );
    return Number(row?.n);
  };
  const keys = async () => (await storedKeys(t.connection)).map((row) => row.key);

  it('installIdempotency is idempotent and leaves data in place', async () => {
    await keysApp().store('kept');
    await installIdempotency(t.connection.db);
    expect(await keys()).toEqual(['kept']);
  });

  it('the Drizzle table is the installed one: columns, nullability, and a row read through it', async () => {
    const { store } = keysApp();
    expect(await store('drizzle-row')).toBe(201);
    const config =
      t.kind === 'postgres'
        ? pgTableConfig(pgIdempotencyTable)
        : mysqlTableConfig(mysqlIdempotencyTable);
    const installed = await t.connection.query<{ column_name: string; is_nullable: string }>(
      t.kind === 'postgres'
        ? "select column_name, is_nullable from information_schema.columns where table_name = 'racefree_idempotency_keys' and table_schema = current_schema() order by ordinal_position"
        : "select column_name as column_name, is_nullable as is_nullable from information_schema.columns where table_name = 'racefree_idempotency_keys' and table_schema = database() order by ordinal_position",
    );
    expect(installed.map((c) => [c.column_name, c.is_nullable === 'NO'])).toEqual(
      config.columns.map((c) => [c.name, c.notNull]),
    );
    expect(config.primaryKeys[0]?.columns.map((c) => c.name)).toEqual(['scope', 'idempotency_key']);
    expect(config.indexes.map((index) => index.config.name)).toEqual([
      'racefree_idempotency_keys_expires_at',
    ]);
    const rows =
      t.kind === 'postgres'
        ? await (t.connection.db as PgDatabase<any>).select().from(pgIdempotencyTable)
        : await (t.connection.db as MySql2Database).select().from(mysqlIdempotencyTable);
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      scope: '',
      key: 'drizzle-row',
      method: 'POST',
      path: '/keys',
      status: 201,
      contentType: 'application/json',
      headers: null,
    });
    expect(Buffer.from(row?.body ?? []).toString()).toBe(JSON.stringify({ key: 'drizzle-row' }));
    expect(row?.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.expiresAt.getTime()).toBeGreaterThan(row?.createdAt.getTime() ?? Infinity);
  });

  it('pruneIdempotencyKeys deletes expired keys only, up to its limit', async () => {
    const short = keysApp({ ttlMs: 1 });
    for (const key of ['old-1', 'old-2', 'old-3']) await short.store(key);
    await keysApp().store('fresh');
    await until('three keys to expire', async () => (await expiredCount()) === 3);
    expect(await pruneIdempotencyKeys(t.connection.db, { limit: 2 })).toBe(2);
    expect(await pruneIdempotencyKeys(t.connection.db)).toBe(1);
    expect(await pruneIdempotencyKeys(t.connection.db)).toBe(0);
    expect(await keys()).toEqual(['fresh']);
  });

  it('the middleware prunes after a stored request, at most once per everyMs', async () => {
    const short = keysApp({ ttlMs: 1 });
    const pruning = keysApp({ prune: { everyMs: 3_600_000 } });
    await short.store('old-1');
    await until('the key to expire', async () => (await expiredCount()) === 1);
    await pruning.store('first');
    // Pruned after the commit and before the response: already gone.
    expect(await keys()).toEqual(['first']);
    await short.store('old-2');
    await until('the key to expire', async () => (await expiredCount()) === 1);
    await pruning.store('second');
    // Not due again for an hour.
    expect(await keys()).toEqual(['first', 'old-2', 'second']);
  });

  it('a full batch makes the next stored request prune again', async () => {
    const short = keysApp({ ttlMs: 1 });
    const pruning = keysApp({ prune: { everyMs: 3_600_000, batch: 1 } });
    for (const key of ['old-1', 'old-2']) await short.store(key);
    await until('two keys to expire', async () => (await expiredCount()) === 2);
    await pruning.store('first');
    expect(await expiredCount()).toBe(1);
    await pruning.store('second');
    expect(await expiredCount()).toBe(0);
  });

  it('a missing table is named, with what to do', async () => {
    const rename = (from: string, to: string) =>
      t.connection.query(
        t.kind === 'postgres'
          ? `alter table ${from} rename to ${to}`
          : `rename table ${from} to ${to}`,
      );
    const { store, errors } = keysApp();
    await rename('racefree_idempotency_keys', 'racefree_idempotency_keys_away');
    try {
      expect(await store('k')).toBe(500);
    } finally {
      await rename('racefree_idempotency_keys_away', 'racefree_idempotency_keys');
    }
    expect(errors[0]).toBeInstanceOf(IdempotencyTableMissingError);
    expect(errors[0]).toMatchObject({ code: 'IDEMPOTENCY_TABLE_MISSING' });
    expect(String((errors[0] as Error).message)).toContain('installIdempotency(db)');
  });
});
