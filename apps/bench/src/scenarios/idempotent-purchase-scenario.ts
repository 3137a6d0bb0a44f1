import { randomUUID } from 'node:crypto';
import { migrate, purchase } from '@racefree/bookstore';
import { atomicRequests, idempotency, installIdempotency } from '@racefree/hono';
import type { Database } from '@racefree/transactions';
import { Hono } from 'hono';
import { errorKind } from '../error-kind.js';
import { WrongRowError } from '../expect-row.js';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, BenchClient } from '../open-clients.js';
import type { Contender, Scenario } from '../scenario.js';

/** Stock each client's book starts every run with: never sold out within a run. */
const START_STOCK = 1_000_000_000;
const ISBN_PREFIX = 'idem-';

/** The bookstore's purchase route, one transaction per request, with or without keys. */
function purchaseApp(db: Database, keyed: boolean): Hono {
  const app = new Hono();
  app.use('/api/*', atomicRequests(db));
  if (keyed) app.use('/api/*', idempotency(db));
  app.post('/api/books/:id/purchase', async (c) => {
    const { customerId } = await c.req.json<{ customerId: number }>();
    const bookId = Number(c.req.param('id'));
    const order = await purchase(db, { bookId, customerId, strategy: 'atomic' });
    return c.json({ order }, 201);
  });
  // Hono's default handler logs every error; the bench counts them by kind instead.
  app.onError((error, c) => c.json({ kind: errorKind(error), message: error.message }, 500));
  return app;
}

/** A sale's order id, and whether the answer was a replay; any other answer throws. */
async function sold(response: Response): Promise<{ orderId: number; replayed: boolean }> {
  const body = (await response.json()) as { order?: { orderId: number }; kind?: string };
  if (response.status !== 201 || !body.order)
    throw Object.assign(new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`), {
      code: body.kind ?? `HTTP_${response.status}`,
    });
  const replayed = response.headers.get('idempotent-replayed') === 'true';
  return { orderId: body.order.orderId, replayed };
}

/**
 * Issue #24: a purchase through an in-process Hono app (`app.request()`: no network, so the
 * HTTP stack is not what is measured), `atomicRequests(db)` + `idempotency(db)` + a handler
 * calling the bookstore's `purchase` ('atomic'), with a fresh Idempotency-Key per request and
 * with a stored key replayed, against the same route without `idempotency()`; the bare
 * `purchase` call for reference. Each client buys its own book, so what is measured is the
 * middleware, not a hot row's queue. Invariant: stock = start − orders, one order per
 * successful first run and none per replay, one stored key per keyed order.
 */
export async function idempotentPurchaseScenario(
  admin: Admin,
  maxClients: number,
): Promise<Scenario> {
  await migrate(admin.db);
  await installIdempotency(admin.db);
  for (let i = 0; i < maxClients; i++) {
    await admin.query(
      'insert into books (isbn, title, price_cents, quantity) values (?, ?, ?, ?)',
      [`${ISBN_PREFIX}${i}`, `Idempotent ${i}`, 999, START_STOCK],
    );
    await admin.query('insert into customers (email, name) values (?, ?)', [
      `${ISBN_PREFIX}${i}@bench.example`,
      `Keyed buyer ${i}`,
    ]);
  }
  const ids = async (text: string) =>
    (await admin.query<{ id: number }>(text, [`${ISBN_PREFIX}%`])).map((row) => Number(row.id));
  const books = await ids('select id from books where isbn like ? order by id');
  const customers = await ids('select id from customers where email like ? order by id');

  const apps = new WeakMap<object, { keyed: Hono; plain: Hono }>();
  const post = (c: BenchClient, keyed: boolean, key?: string) => {
    const app = apps.get(c.db) ?? {
      keyed: purchaseApp(c.db, true),
      plain: purchaseApp(c.db, false),
    };
    apps.set(c.db, app);
    return app[keyed ? 'keyed' : 'plain'].request(`/api/books/${books[c.index]}/purchase`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: JSON.stringify({ customerId: customers[c.index] }),
    });
  };
  /** Each client's stored key, made by its first replay call of the run, and its order. */
  const replays = new Map<number, { key: string; orderId: number }>();

  const contenders: Contender[] = [
    {
      id: 'unkeyed',
      label: 'baseline: POST …/purchase through atomicRequests, no idempotency()',
      role: 'floor',
      async op(c) {
        await sold(await post(c, false));
        return undefined;
      },
    },
    {
      id: 'racefree-keyed',
      label: 'the same with idempotency() and a fresh Idempotency-Key (first run)',
      role: 'racefree',
      baseline: 'unkeyed',
      async op(c, key) {
        if ((await sold(await post(c, true, `k-${key}`))).replayed)
          throw new WrongRowError(`fresh key k-${key} answered with a replay`);
        return undefined;
      },
    },
    {
      id: 'racefree-replay',
      label: 'the same with a key already stored: replayed, the handler not run',
      role: 'racefree',
      baseline: 'unkeyed',
      async op(c) {
        const first = replays.get(c.index);
        if (!first) {
          const key = `r-${randomUUID()}`;
          replays.set(c.index, { key, orderId: (await sold(await post(c, true, key))).orderId });
          return undefined;
        }
        const again = await sold(await post(c, true, first.key));
        if (!again.replayed || again.orderId !== first.orderId)
          throw new WrongRowError(
            `key ${first.key}: order ${again.orderId} (replayed: ${again.replayed}), stored ${first.orderId}`,
          );
        return undefined;
      },
    },
    {
      id: 'bare-purchase',
      label: "reference: purchase(db, …, 'atomic') called directly, no HTTP, no transaction",
      role: 'reference',
      baseline: 'unkeyed',
      async op(c) {
        const sale = { bookId: books[c.index] ?? 0, customerId: customers[c.index] ?? 0 };
        await purchase(c.db, { ...sale, strategy: 'atomic' });
        return undefined;
      },
    },
  ];
  return {
    id: 'idempotency/purchase',
    group: 'idempotency',
    title: 'purchase with an Idempotency-Key',
    keys: {
      ...KEY_MIXES.unique,
      description: `each client buys its own book (${START_STOCK.toLocaleString('en')} copies) through an in-process Hono app (app.request, no network)`,
    },
    contenders,
    async reset() {
      replays.clear();
      await admin.query('truncate table orders');
      await admin.query('truncate table racefree_idempotency_keys');
      await admin.query('update books set quantity = ? where isbn like ?', [
        START_STOCK,
        `${ISBN_PREFIX}%`,
      ]);
    },
    async check(contender, succeeded) {
      const [row] = await admin.query<Record<'stock' | 'orders' | 'stored', number | string>>(
        'select (select sum(quantity) from books where isbn like ?) as stock, (select count(*) from orders) as orders, (select count(*) from racefree_idempotency_keys) as stored',
        [`${ISBN_PREFIX}%`],
      );
      const [stock, orders, stored] = [row?.stock, row?.orders, row?.stored].map(Number) as [
        number,
        number,
        number,
      ];
      const gone = START_STOCK * books.length - stock;
      // A replay buys nothing: its orders are the first runs of its keys, one per client.
      const expected =
        contender.id === 'racefree-replay'
          ? { orders: replays.size, stored: replays.size }
          : { orders: succeeded, stored: contender.id === 'racefree-keyed' ? succeeded : 0 };
      const anomalies =
        Math.abs(gone - orders) +
        Math.abs(orders - expected.orders) +
        Math.abs(stored - expected.stored);
      return {
        held: anomalies === 0,
        anomalies,
        detail: `stock down ${gone}, ${orders} orders (${expected.orders} expected), ${stored} keys stored (${expected.stored} expected)`,
      };
    },
  };
}
