import { migrate, type PurchaseStrategy, purchase } from '@racefree/bookstore';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, Raw } from '../open-clients.js';
import type { Contender, Scenario } from '../scenario.js';

/** Stock the hot book starts every run with: never sold out within a run. */
const START_STOCK = 1_000_000_000;
const ISBN = '978-0-00-000000-2';

class RawSoldOutError extends Error {
  readonly code = 'SOLD_OUT';
}

/** Contenders that write no order row: the client counts their sales. */
const WITHOUT_ORDERS = new Set(['raw-update', 'raw-lock']);

/**
 * One hot book, every client buying it: the bookstore's `purchase` with each strategy against
 * the issue's raw floors (the autocommit conditional UPDATE for `atomic`; BEGIN; SELECT … FOR
 * UPDATE; UPDATE; COMMIT for `lock`) and against hand-written transactions doing what
 * `purchase` does (customer check, stock, order row). Invariant after every run: copies gone
 * from stock = sales recorded, stock never negative; `naive`'s difference is its lost updates.
 * Migrates the bookstore and makes the book and one customer per client first.
 */
export async function purchaseScenario(admin: Admin, maxClients: number): Promise<Scenario> {
  await migrate(admin.db);
  await admin.query('insert into books (isbn, title, price_cents, quantity) values (?, ?, ?, ?)', [
    ISBN,
    'The Hot Row',
    1999,
    START_STOCK,
  ]);
  const [book] = await admin.query<{ id: number }>('select id from books where isbn = ?', [ISBN]);
  const bookId = Number(book?.id);
  const customerIds: number[] = [];
  for (let i = 0; i < maxClients; i++) {
    await admin.query('insert into customers (email, name) values (?, ?)', [
      `buyer-${i}@bench.example`,
      `Buyer ${i}`,
    ]);
    const [row] = await admin.query<{ id: number }>('select id from customers where email = ?', [
      `buyer-${i}@bench.example`,
    ]);
    customerIds.push(Number(row?.id));
  }
  const postgres = admin.family === 'postgres';
  const customerOf = (index: number) => customerIds[index] as number;

  const checkCustomer = (tx: Raw, customer: number) =>
    tx.query('select id from customers where id = ?', [customer]);
  const decrement = async (tx: Raw) => {
    const { count } = await tx.query(
      'update books set quantity = quantity - 1 where id = ? and quantity > 0',
      [bookId],
    );
    if (count === 0) throw new RawSoldOutError('sold out');
  };
  const lockAndDecrement = async (tx: Raw) => {
    const [row] = (
      await tx.query<{ quantity: number }>('select quantity from books where id = ? for update', [
        bookId,
      ])
    ).rows;
    if (!row || row.quantity < 1) throw new RawSoldOutError('sold out');
    await tx.query('update books set quantity = ? where id = ?', [row.quantity - 1, bookId]);
  };
  const insertOrder = (tx: Raw, customer: number) =>
    tx.query(
      `insert into orders (book_id, customer_id) values (?, ?)${postgres ? ' returning id' : ''}`,
      [bookId, customer],
    );
  const buy =
    (strategy: PurchaseStrategy): Contender['op'] =>
    async (c) => {
      await purchase(c.db, { bookId, customerId: customerOf(c.index), strategy });
      return undefined;
    };

  // Each floor, then the library call it is compared with, then the same work by hand.
  const contenders: Contender[] = [
    {
      id: 'raw-update',
      label:
        'raw floor: UPDATE … SET quantity = quantity - 1 WHERE … AND quantity > 0 (autocommit)',
      role: 'floor',
      op: async (c) => void (await decrement(c.raw)),
    },
    {
      id: 'racefree-atomic',
      label: "bookstore purchase, strategy 'atomic' (conditional UPDATE in atomic())",
      role: 'racefree',
      baseline: 'raw-update',
      sameWorkBaseline: 'raw-atomic-same-work',
      op: buy('atomic'),
    },
    {
      id: 'raw-atomic-same-work',
      label:
        'raw, same work as atomic: BEGIN; SELECT customer; conditional UPDATE; INSERT order; COMMIT',
      role: 'reference',
      op: (c) =>
        c.raw.transaction(async (tx) => {
          await checkCustomer(tx, customerOf(c.index));
          await decrement(tx);
          await insertOrder(tx, customerOf(c.index));
          return undefined;
        }),
    },
    ...(postgres
      ? [
          {
            id: 'raw-atomic-one-statement',
            label:
              'raw, the sale in one autocommit statement: WITH sold AS (conditional UPDATE … RETURNING) INSERT INTO orders …',
            role: 'reference',
            async op(c) {
              // The row lock is held for no round trip at all (an unknown customer is refused
              // by the orders foreign key).
              const { rows } = await c.raw.query(
                'with sold as (update books set quantity = quantity - 1 where id = ? and quantity > 0 returning id) insert into orders (book_id, customer_id) select id, ? from sold returning id',
                [bookId, customerOf(c.index)],
              );
              if (!rows[0]) throw new RawSoldOutError('sold out');
              return undefined;
            },
          } satisfies Contender,
        ]
      : []),
    {
      id: 'raw-lock',
      label: 'raw floor: BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT',
      role: 'floor',
      op: (c) => c.raw.transaction(async (tx) => void (await lockAndDecrement(tx))),
    },
    {
      id: 'racefree-lock',
      label: "bookstore purchase, strategy 'lock' (SELECT … FOR UPDATE in atomic())",
      role: 'racefree',
      baseline: 'raw-lock',
      sameWorkBaseline: 'raw-lock-same-work',
      op: buy('lock'),
    },
    {
      id: 'raw-lock-same-work',
      label:
        'raw, same work as lock: BEGIN; SELECT customer; SELECT … FOR UPDATE; UPDATE; INSERT order; COMMIT',
      role: 'reference',
      op: (c) =>
        c.raw.transaction(async (tx) => {
          await checkCustomer(tx, customerOf(c.index));
          await lockAndDecrement(tx);
          await insertOrder(tx, customerOf(c.index));
          return undefined;
        }),
    },
    {
      id: 'naive',
      label: "bookstore purchase, strategy 'naive' (read, then write back: control)",
      role: 'control',
      baseline: 'raw-lock-same-work',
      op: buy('naive'),
    },
  ];
  return {
    id: 'purchase/hot-row',
    group: 'purchase',
    title: 'purchase, one hot row',
    keys: {
      ...KEY_MIXES.none,
      description: `one book, ${START_STOCK.toLocaleString('en')} copies, every client buying it`,
    },
    contenders,
    async reset() {
      await admin.query('truncate table orders');
      await admin.query('update books set quantity = ? where id = ?', [START_STOCK, bookId]);
    },
    async check(contender, succeeded) {
      const [book] = await admin.query<{ quantity: number }>(
        'select quantity from books where id = ?',
        [bookId],
      );
      const [orders] = await admin.query<{ n: number | string }>(
        'select count(*) as n from orders',
      );
      const quantity = Number(book?.quantity);
      const sold = START_STOCK - quantity;
      const recorded = WITHOUT_ORDERS.has(contender.id) ? succeeded : Number(orders?.n);
      const lost = recorded - sold;
      return {
        held: lost === 0 && quantity >= 0,
        anomalies: Math.abs(lost),
        detail: `stock down ${sold}, ${recorded} sales recorded${lost > 0 ? `: ${lost} lost updates` : ''}${quantity < 0 ? ', stock negative' : ''}`,
      };
    },
  };
}
