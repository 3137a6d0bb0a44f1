import { Barrier, describeDialects, race } from '@racefree/testkit';
import { atomic, current, type Database, onCommit } from '@racefree/transactions';
import { executeRows, executeStatement } from '@racefree/transactions/internal';
import { mysqlDialect, parseVersion, setDialectForTesting } from '@racefree/transactions/testing';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { type Context, Hono } from 'hono';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { atomicRequests, idempotency, installIdempotency } from '../src/index.js';
import { alwaysDeadlocks, createTables, noteBodies } from './fixtures.js';
import {
  connectionId,
  deferred,
  killConnection,
  lockWaiters,
  send,
  snapshot,
  storedKeys,
  until,
  untilExpired,
  useNotesAndKeys,
} from './idempotency-fixtures.js';

/**
 * Gates that hold a first request: opened after every test, so that a test failing before it
 * opens its gate leaves no request (and no transaction) behind to hang the suite's cleanup.
 */
const openGates: (() => void)[] = [];
function gateDeferred() {
  const gate = deferred();
  openGates.push(() => gate.resolve());
  return gate;
}
afterEach(() => {
  for (const open of openGates.splice(0)) open();
});

const insertNote = (db: Database, body: string) =>
  executeStatement(current(db), sql`insert into notes (body) values (${body})`);

describeDialects('idempotency under concurrency', (t) => {
  useNotesAndKeys(t);

  /**
   * A pool whose lock waits never end by themselves (PostgreSQL lock_timeout 0, InnoDB's
   * limit raised to a day): a duplicate that comes back with 409 was ended by the
   * middleware's own limit, not by the server's.
   */
  const unboundedPool = async () => {
    if (t.kind === 'postgres') {
      await t.connection.query(`alter database ${t.database.name} set lock_timeout = 0`);
      unbounded.push(() =>
        t.connection.query(`alter database ${t.database.name} set lock_timeout = '20s'`),
      );
      return t.connect({ max: 3 });
    }
    const pool = await t.connect({ max: 3 });
    (pool.client as import('mysql2/promise').Pool).pool.on('connection', (connection) => {
      connection.query('SET SESSION innodb_lock_wait_timeout = 86400');
    });
    return pool;
  };
  const unbounded: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const reset of unbounded.splice(0)) await reset();
  });

  /** The kind of answer a keyed request got. */
  const kindOf = async (response: Response) => {
    const { status, replayed, body } = await snapshot(response);
    if (status === 201 && replayed === null) return { kind: 'ran', body };
    if (status === 201 && replayed === 'true') return { kind: 'replayed', body };
    if (status === 409 && response.headers.get('retry-after') !== null)
      return { kind: 'busy', body };
    return { kind: `unexpected ${status}`, body };
  };

  it('30 concurrent duplicates: the handler runs once, the rest replay it or get 409', async () => {
    const pool = await t.connect({ max: 12 });
    let runs = 0;
    const app = new Hono();
    app.use(idempotency(pool.db, { prune: false }));
    app.post('/orders', async (c) => {
      runs += 1;
      await insertNote(pool.db, 'order');
      // Hold the key until every other connection of the pool is queued on it: the
      // duplicates are really waiting on the first's uncommitted claim, not arriving late.
      await until('11 duplicates waiting on the key', async () => {
        return (await lockWaiters(t.connection)) >= 11;
      });
      return c.json({ order: runs }, 201);
    });
    const { results, errors } = await race(30, async () =>
      kindOf(await send(app, '/orders', { book: 1 }, 'order-1')),
    );
    expect(errors).toEqual([]);
    const kinds = results.map((result) => result.kind);
    expect(runs).toBe(1);
    expect(
      kinds.filter((kind) => kind === 'ran'),
      kinds.join(' '),
    ).toHaveLength(1);
    expect(kinds.filter((kind) => !['ran', 'replayed', 'busy'].includes(kind))).toEqual([]);
    const first = results.find((result) => result.kind === 'ran');
    for (const result of results.filter((r) => r.kind === 'replayed'))
      expect(result.body).toBe(first?.body);
    expect(await noteBodies(t.connection)).toEqual(['order']);
    expect(await storedKeys(t.connection)).toEqual([{ scope: '', key: 'order-1', status: 201 }]);
  });

  /** An app whose run number `held` (default the first) holds at a gate, then succeeds or throws. */
  const gatedApp = (
    db: Database,
    held: { outcome: 'succeeds' | 'throws'; run?: number },
    options: { waitMs?: number; ttlMs?: number } = {},
  ) => {
    const started = deferred();
    const gate = gateDeferred();
    const runs: number[] = [];
    const app = new Hono();
    app.onError((error, c) => c.json({ error: String(error) }, 500));
    app.use(idempotency(db, { prune: false, ...options }));
    app.post('/orders', async (c) => {
      const run = runs.length + 1;
      runs.push(run);
      await insertNote(db, `run ${run}`);
      if (run === (held.run ?? 1)) {
        started.resolve();
        await gate.promise;
        if (held.outcome === 'throws') throw new Error('the held request failed');
      }
      return c.json({ run }, 201);
    });
    const order = () => send(app, '/orders', { book: 1 }, 'order-1');
    /** The first request held at its gate, a duplicate seen waiting on the key, then the gate opened. */
    const firstAndWaitingDuplicate = async () => {
      const first = order();
      await started.promise;
      const duplicate = order();
      await until('the duplicate to wait on the key', async () => {
        return (await lockWaiters(t.connection)) >= 1;
      });
      gate.resolve();
      return { first: await first, duplicate: await duplicate };
    };
    return { order, runs, started, gate, firstAndWaitingDuplicate };
  };

  it('a duplicate waits for a first that fails, then runs itself', async () => {
    const { order, runs, firstAndWaitingDuplicate } = gatedApp(t.connection.db, {
      outcome: 'throws',
    });
    const { first, duplicate } = await firstAndWaitingDuplicate();
    expect(first.status).toBe(500);
    expect(await kindOf(duplicate)).toEqual({
      kind: 'ran',
      body: JSON.stringify({ run: 2 }),
    });
    expect(runs).toEqual([1, 2]);
    expect(await noteBodies(t.connection)).toEqual(['run 2']);
    expect(await kindOf(await order())).toEqual({
      kind: 'replayed',
      body: JSON.stringify({ run: 2 }),
    });
  });

  it('a duplicate waits for a first that succeeds, then replays it', async () => {
    const { runs, firstAndWaitingDuplicate } = gatedApp(t.connection.db, { outcome: 'succeeds' });
    const { first, duplicate } = await firstAndWaitingDuplicate();
    expect(await kindOf(first)).toEqual({ kind: 'ran', body: JSON.stringify({ run: 1 }) });
    expect(await kindOf(duplicate)).toEqual({
      kind: 'replayed',
      body: JSON.stringify({ run: 1 }),
    });
    expect(runs).toEqual([1]);
  });

  it('two requests for an expired key: one takes it over and runs, the other waits and replays it', async () => {
    const { order, runs, firstAndWaitingDuplicate } = gatedApp(
      t.connection.db,
      { outcome: 'succeeds', run: 2 },
      { ttlMs: 200 },
    );
    expect(await kindOf(await order())).toEqual({ kind: 'ran', body: JSON.stringify({ run: 1 }) });
    await untilExpired(t.connection);
    const { first, duplicate } = await firstAndWaitingDuplicate();
    expect(await kindOf(first)).toEqual({ kind: 'ran', body: JSON.stringify({ run: 2 }) });
    expect(await kindOf(duplicate)).toEqual({
      kind: 'replayed',
      body: JSON.stringify({ run: 2 }),
    });
    expect(runs).toEqual([1, 2]);
    expect(await storedKeys(t.connection)).toEqual([{ scope: '', key: 'order-1', status: 201 }]);
  });

  it('a duplicate that waits longer than waitMs gets 409 with Retry-After; the first completes', async () => {
    const pool = await unboundedPool();
    const { order, runs, started, gate } = gatedApp(
      pool.db,
      { outcome: 'succeeds' },
      { waitMs: 300 },
    );
    const first = order();
    await started.promise;
    // The first is held until the duplicate has its answer: only the wait limit can end it.
    const duplicate = await order();
    expect(duplicate.status).toBe(409);
    expect(duplicate.headers.get('retry-after')).toBe('1');
    expect(duplicate.headers.get('content-type')).toBe('application/problem+json');
    expect(await duplicate.json()).toMatchObject({ status: 409, title: 'Request in progress' });
    gate.resolve();
    expect(await kindOf(await first)).toEqual({ kind: 'ran', body: JSON.stringify({ run: 1 }) });
    expect(await kindOf(await order())).toEqual({
      kind: 'replayed',
      body: JSON.stringify({ run: 1 }),
    });
    expect(runs).toEqual([1]);
  });

  it('a connection killed between the handler’s write and the response leaves neither', async () => {
    const pool = await t.connect({ max: 3 });
    const written = deferred<number>();
    const gate = gateDeferred();
    const runs: number[] = [];
    const app = new Hono();
    app.onError((error, c) => c.json({ error: String(error) }, 500));
    app.use(idempotency(pool.db, { prune: false }));
    app.post('/orders', async (c) => {
      runs.push(runs.length + 1);
      await insertNote(pool.db, `run ${runs.length}`);
      if (runs.length === 1) {
        written.resolve(await connectionId(pool.db, t.kind));
        await gate.promise;
      }
      return c.json({ run: runs.length }, 201);
    });
    const order = () => send(app, '/orders', { book: 1 }, 'order-1');
    const first = order();
    // The write is done and the response not yet stored: the server process dies now.
    await killConnection(t.connection, await written.promise);
    gate.resolve();
    expect((await first).status).toBe(500);
    expect(await noteBodies(t.connection)).toEqual([]);
    expect(await storedKeys(t.connection)).toEqual([]);
    // The key is free: the client's retry runs, once.
    expect(await kindOf(await order())).toEqual({ kind: 'ran', body: JSON.stringify({ run: 2 }) });
    expect(await kindOf(await order())).toEqual({
      kind: 'replayed',
      body: JSON.stringify({ run: 2 }),
    });
    expect(await noteBodies(t.connection)).toEqual(['run 2']);
  });

  describe('with atomicRequests', () => {
    const composed = (retries: number, order: 'atomicRequests first' | 'idempotency first') => {
      const db = t.connection.db;
      const hooks: string[] = [];
      const attempts: number[] = [];
      const app = new Hono();
      app.onError((error, c) => c.json({ error: String(error) }, 500));
      const transaction = atomicRequests(db, { retries: { retries, baseDelayMs: 1 } });
      const keys = idempotency(db, { prune: false });
      app.use(order === 'atomicRequests first' ? transaction : keys);
      // Between the two: turns the stored 201 into a 500 afterwards, when asked to.
      app.use(async (c, next) => {
        await next();
        if (c.req.header('x-break-after') === 'yes') {
          c.res = undefined;
          c.res = c.json({ error: 'broken after the response was stored' }, 500);
        }
      });
      app.use(order === 'atomicRequests first' ? keys : transaction);
      app.post('/notes', async (c: Context) => {
        const attempt = attempts.length + 1;
        attempts.push(attempt);
        await insertNote(db, `attempt ${attempt}`);
        await onCommit(() => hooks.push(`committed attempt ${attempt}`));
        if (c.req.header('x-deadlock-once') === 'yes' && attempt === 1)
          await executeStatement(current(db), alwaysDeadlocks(t.kind));
        return c.json({ attempt }, 201);
      });
      const post = (headers: Record<string, string> = {}) =>
        send(app, '/notes', { note: 1 }, 'key-1', { headers });
      return { post, hooks, attempts };
    };

    for (const order of ['atomicRequests first', 'idempotency first'] as const) {
      it(`one transaction (${order}): a response failed after storing leaves neither key nor writes`, async () => {
        const { post, hooks } = composed(0, order);
        expect((await post({ 'x-break-after': 'yes' })).status).toBe(500);
        expect(await noteBodies(t.connection)).toEqual([]);
        expect(await storedKeys(t.connection)).toEqual([]);
        expect(hooks).toEqual([]);
        expect(await kindOf(await post())).toEqual({
          kind: 'ran',
          body: JSON.stringify({ attempt: 2 }),
        });
        expect(await kindOf(await post())).toEqual({
          kind: 'replayed',
          body: JSON.stringify({ attempt: 2 }),
        });
        expect(await noteBodies(t.connection)).toEqual(['attempt 2']);
        expect(hooks).toEqual(['committed attempt 2']);
      });
    }

    it('a request retried by atomicRequests stores the attempt that committed', async () => {
      const { post, attempts, hooks } = composed(2, 'atomicRequests first');
      expect(await kindOf(await post({ 'x-deadlock-once': 'yes' }))).toEqual({
        kind: 'ran',
        body: JSON.stringify({ attempt: 2 }),
      });
      expect(attempts).toEqual([1, 2]);
      expect(hooks).toEqual(['committed attempt 2']);
      expect(await noteBodies(t.connection)).toEqual(['attempt 2']);
      expect(await kindOf(await post())).toEqual({
        kind: 'replayed',
        body: JSON.stringify({ attempt: 2 }),
      });
      expect(attempts).toEqual([1, 2]);
    });
  });
});

// One node-postgres connection — a Client, or a PoolClient checked out of a pool — that
// requests take turns on.
describeDialects(
  'idempotency on one node-postgres connection',
  (t) => {
    let client: pg.Client;
    let pool: pg.Pool;
    let poolClient: pg.PoolClient;
    beforeAll(async () => {
      await createTables(t.connection);
      await installIdempotency(t.connection.db);
      client = new pg.Client({ connectionString: t.database.url });
      await client.connect();
      pool = new pg.Pool({ connectionString: t.database.url, max: 1 });
      poolClient = await pool.connect();
    });
    afterAll(async () => {
      poolClient.release();
      await Promise.all([client.end(), pool.end()]);
    });

    for (const kind of ['Client', 'PoolClient'] as const) {
      it(`runs a key once when two requests with it arrive together (${kind})`, async () => {
        await executeStatement(t.connection.db, sql`delete from notes`);
        const db = drizzle({ client: kind === 'Client' ? client : poolClient });
        let runs = 0;
        const app = new Hono();
        app.use(idempotency(db, { prune: false }));
        app.post('/orders', async (c) => {
          runs += 1;
          await insertNote(db, 'order');
          return c.json({ run: runs }, 201);
        });
        const responses = await Promise.all([
          send(app, '/orders', { book: 1 }, kind),
          send(app, '/orders', { book: 1 }, kind),
        ]);
        expect(runs).toBe(1);
        expect(responses.map((r) => String(r.headers.get('idempotent-replayed'))).sort()).toEqual([
          'null',
          'true',
        ]);
        expect(await noteBodies(t.connection)).toEqual(['order']);
      });
    }
  },
  { drivers: ['node-postgres'] },
);

// MySQL 8 cannot run here. Its strategy — IODKU then a locking read, innodb_lock_wait_timeout
// set for the session and put back — uses only statements MariaDB also accepts, so it runs
// for real on MariaDB, picked by telling racefree the server is MySQL 8.0.36.
describeDialects(
  'idempotency with MySQL 8’s statements (run on MariaDB, which accepts them)',
  (t) => {
    const statements: string[] = [];
    let db: Database;
    beforeAll(async () => {
      await createTables(t.connection);
      await installIdempotency(t.connection.db);
      const pool = await t.connect({
        max: 2,
        logger: { logQuery: (query) => statements.push(query) },
      });
      // Lock waits that never end by themselves: only the middleware's limit can end one.
      (pool.client as import('mysql2/promise').Pool).pool.on('connection', (connection) => {
        connection.query('SET SESSION innodb_lock_wait_timeout = 86400');
      });
      setDialectForTesting(pool.db, mysqlDialect(parseVersion('8.0.36'), 'repeatable read'));
      db = pool.db;
    });

    it('claims, replays, and answers 409 once the whole-second wait runs out', async () => {
      const started = deferred();
      const gate = gateDeferred();
      let runs = 0;
      const app = new Hono();
      app.use(idempotency(db, { prune: false, waitMs: 200 }));
      app.post('/orders', async (c) => {
        runs += 1;
        await insertNote(db, `run ${runs}`);
        started.resolve();
        await gate.promise;
        return c.json({ run: runs }, 201);
      });
      const order = () => send(app, '/orders', { book: 1 }, 'order-1');
      const first = order();
      await started.promise;
      const duplicate = await order();
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers.get('retry-after')).toBe('1');
      gate.resolve();
      expect((await first).status).toBe(201);
      const replay = await order();
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(await replay.json()).toEqual({ run: 1 });
      expect(runs).toBe(1);
      expect(statements.some((s) => s.startsWith('SET SESSION innodb_lock_wait_timeout = 1'))).toBe(
        true,
      );
      expect(statements.some((s) => s.includes('SET STATEMENT'))).toBe(false);
      // The session's own limit is back on both connections of the pool:
      // two transactions open at once hold one each.
      const bothOpen = new Barrier(2);
      const limits = await Promise.all(
        [1, 2].map(() =>
          atomic(db, async (tx) => {
            const [row] = await executeRows<{ v: unknown }>(
              tx,
              sql`select @@innodb_lock_wait_timeout as v`,
            );
            await bothOpen.wait();
            return Number(row?.v);
          }),
        ),
      );
      expect(limits).toEqual([86400, 86400]);
    });
  },
  { kinds: ['mysql'] },
);
