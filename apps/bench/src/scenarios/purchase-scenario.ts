import { migrate, type PurchaseStrategy, purchase } from '@racefree/bookstore';
import { KEY_MIXES } from '../key-mix.js';
import type { Admin, Raw } from '../open-clients.js';
import type { Contender, ContenderRole, Scenario } from '../scenario.js';

/** Stock the hot book starts every run with: never sold out within a run. */
const START_STOCK = 1_000_000_000;

class RawSoldOutError extends Error {
  readonly code = 'SOLD_OUT';
}

const RAW_UPDATE =
  'raw floor: UPDATE … SET quantity = quantity - 1 WHERE … AND quantity > 0 (autocommit)';
const SAME_AS_ATOMIC =
  'raw, same work as atomic: BEGIN; SELECT customer; conditional UPDATE; INSERT order; COMMIT';
const SAME_AS_LOCK =
  'raw, same work as lock: BEGIN; SELECT customer; SELECT … FOR UPDATE; UPDATE; INSERT order; COMMIT';
const ONE_STATEMENT =
  'raw, the sale in one autocommit statement: WITH sold AS (conditional UPDATE … RETURNING) INSERT INTO orders …';

/** A hand-written step of a sale, on a connection or a transaction. */
type Step = (
  tx: Raw,
  sale: { bookId: number; customerId: number; postgres: boolean },
) => Promise<unknown>;
const checkCustomer: Step = (tx, { customerId }) =>
  tx.query('select id from customers where id = ?', [customerId]);
const decrement: Step = async (tx, { bookId }) => {
  const text = 'update books set quantity = quantity - 1 where id = ? and quantity > 0';
  if ((await tx.query(text, [bookId])).count === 0) throw new RawSoldOutError('sold out');
};
const lockAndDecrement: Step = async (tx, { bookId }) => {
  const text = 'select quantity from books where id = ? for update';
  const [book] = (await tx.query<{ quantity: number }>(text, [bookId])).rows;
  if (!book || book.quantity < 1) throw new RawSoldOutError('sold out');
  await tx.query('update books set quantity = ? where id = ?', [book.quantity - 1, bookId]);
};
/** Returning the id on PostgreSQL, as `purchase` does (MySQL has no RETURNING). */
const insertOrder: Step = (tx, { bookId, customerId, postgres }) =>
  tx.query(
    `insert into orders (book_id, customer_id) values (?, ?)${postgres ? ' returning id' : ''}`,
    [bookId, customerId],
  );
/** The whole sale in one statement: the row lock is held for no round trip at all. */
const oneStatement: Step = async (tx, { bookId, customerId }) => {
  const text =
    'with sold as (update books set quantity = quantity - 1 where id = ? and quantity > 0 returning id) insert into orders (book_id, customer_id) select id, ? from sold returning id';
  if (!(await tx.query(text, [bookId, customerId])).rows[0]) throw new RawSoldOutError('sold out');
};

/**
 * One hot book, every client buying it: the bookstore's `purchase` with each strategy against
 * the issue's raw floors (the autocommit conditional UPDATE for `atomic`; BEGIN; SELECT … FOR
 * UPDATE; UPDATE; COMMIT for `lock`) and against hand-written transactions doing what
 * `purchase` does (customer check, stock, order row). Invariant after every run: copies gone
 * from stock = sales recorded, stock never negative (`naive`'s difference: its lost updates).
 * Migrates the bookstore and makes the book and one customer per client first.
 */
export async function purchaseScenario(admin: Admin, maxClients: number): Promise<Scenario> {
  await migrate(admin.db);
  const isbn = '978-0-00-000000-2';
  const book = [isbn, 'The Hot Row', 1999, START_STOCK];
  await admin.query(
    'insert into books (isbn, title, price_cents, quantity) values (?, ?, ?, ?)',
    book,
  );
  const [{ id: bookId } = { id: 0 }] = await admin.query<{ id: number }>(
    'select id from books where isbn = ?',
    [isbn],
  );
  for (let i = 0; i < maxClients; i++)
    await admin.query('insert into customers (email, name) values (?, ?)', [
      `buyer-${i}@bench.example`,
      `Buyer ${i}`,
    ]);
  const customers = await admin.query<{ id: number }>('select id from customers order by id');
  const postgres = admin.family === 'postgres';
  const sale = (index: number) => ({ bookId, customerId: Number(customers[index]?.id), postgres });

  const raw = (
    id: string,
    role: ContenderRole,
    label: string,
    steps: Step[],
    inTransaction = true,
  ) =>
    ({
      id,
      role,
      label,
      op: async (c) => {
        const run = async (tx: Raw) => {
          for (const step of steps) await step(tx, sale(c.index));
        };
        await (inTransaction ? c.raw.transaction(run) : run(c.raw));
        return undefined;
      },
    }) satisfies Contender;
  const buy = (strategy: PurchaseStrategy, baseline: string, sameWork?: string): Contender => ({
    id: strategy === 'naive' ? 'naive' : `racefree-${strategy}`,
    role: strategy === 'naive' ? 'control' : 'racefree',
    label:
      strategy === 'naive'
        ? "bookstore purchase, strategy 'naive' (read, then write back: control)"
        : `bookstore purchase, strategy '${strategy}' (${strategy === 'atomic' ? 'conditional UPDATE' : 'SELECT … FOR UPDATE'} in atomic())`,
    baseline,
    ...(sameWork ? { sameWorkBaseline: sameWork } : {}),
    op: async (c) => {
      const { bookId, customerId } = sale(c.index);
      await purchase(c.db, { bookId, customerId, strategy });
      return undefined;
    },
  });
  // Each floor, then the library call it is compared with, then the same work by hand.
  const contenders: Contender[] = [
    raw('raw-update', 'floor', RAW_UPDATE, [decrement], false),
    buy('atomic', 'raw-update', 'raw-atomic-same-work'),
    raw('raw-atomic-same-work', 'reference', SAME_AS_ATOMIC, [
      checkCustomer,
      decrement,
      insertOrder,
    ]),
    ...(postgres
      ? [raw('raw-atomic-one-statement', 'reference', ONE_STATEMENT, [oneStatement], false)]
      : []),
    raw('raw-lock', 'floor', 'raw floor: BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT', [
      lockAndDecrement,
    ]),
    buy('lock', 'raw-lock', 'raw-lock-same-work'),
    raw('raw-lock-same-work', 'reference', SAME_AS_LOCK, [
      checkCustomer,
      lockAndDecrement,
      insertOrder,
    ]),
    buy('naive', 'raw-lock-same-work'),
  ];
  const description = `one book, ${START_STOCK.toLocaleString('en')} copies, every client buying it`;
  return {
    id: 'purchase/hot-row',
    group: 'purchase',
    title: 'purchase, one hot row',
    keys: { ...KEY_MIXES.none, description },
    contenders,
    async reset() {
      await admin.query('truncate table orders');
      await admin.query('update books set quantity = ? where id = ?', [START_STOCK, bookId]);
    },
    async check(contender, succeeded) {
      const [row] = await admin.query<{ quantity: number; orders: number | string }>(
        'select quantity, (select count(*) from orders) as orders from books where id = ?',
        [bookId],
      );
      const quantity = Number(row?.quantity);
      const sold = START_STOCK - quantity;
      // The floors write no order row: the client counts their sales.
      const recorded = contender.role === 'floor' ? succeeded : Number(row?.orders);
      const lost = recorded - sold;
      return {
        held: lost === 0 && quantity >= 0,
        anomalies: Math.abs(lost),
        detail: `stock down ${sold}, ${recorded} sales recorded${lost > 0 ? `: ${lost} lost updates` : ''}${quantity < 0 ? ', stock negative' : ''}`,
      };
    },
  };
}
