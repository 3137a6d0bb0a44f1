import type mysql from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type postgres from 'postgres';
import { KEY_MIXES } from '../key-mix.js';
import { mysqlTransaction } from '../mysql-transaction.js';
import type { Admin } from '../open-admin.js';
import type { BenchClient, MysqlClient, PostgresClient } from '../open-clients.js';
import { type BookstoreFixture, type BookstoreModule, START_STOCK } from '../prepare-bookstore.js';
import type { Contender, Scenario } from '../scenario.js';

/** Thrown by the raw contenders when their conditional UPDATE changed nothing. */
class RawSoldOutError extends Error {
  readonly code = 'SOLD_OUT';
}

/** Contenders that do not write an order row: their sales are counted by the client. */
const WITHOUT_ORDERS = new Set(['raw-update', 'raw-lock']);

/**
 * Buying one copy of one hot book, every client at once. The bookstore's `purchase` with each
 * strategy against the issue's raw floors (the autocommit conditional UPDATE for `atomic`;
 * `BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT` for `lock`) and against hand-written
 * transactions doing the same work as `purchase` (customer check, stock, order row). The
 * invariant, after every run: copies gone from stock = sales recorded, stock never negative;
 * for `naive` the difference is its lost updates.
 */
export function purchaseScenario(
  family: 'postgres',
  admin: Admin,
  bookstore: BookstoreModule,
  fixture: BookstoreFixture,
): Scenario<PostgresClient>;
export function purchaseScenario(
  family: 'mysql',
  admin: Admin,
  bookstore: BookstoreModule,
  fixture: BookstoreFixture,
): Scenario<MysqlClient>;
export function purchaseScenario(
  family: 'postgres' | 'mysql',
  admin: Admin,
  bookstore: BookstoreModule,
  fixture: BookstoreFixture,
): Scenario<PostgresClient> | Scenario<MysqlClient> {
  return family === 'postgres'
    ? scenario(
        admin,
        inOrder([
          ...racefreeContenders<PostgresClient>(bookstore, fixture),
          ...postgresContenders(fixture),
        ]),
      )
    : scenario(
        admin,
        inOrder([
          ...racefreeContenders<MysqlClient>(bookstore, fixture),
          ...mysqlContenders(fixture),
        ]),
      );
}

/** Each floor, then the library call it is compared with, then the same work by hand. */
const ORDER = [
  'raw-update',
  'racefree-atomic',
  'raw-atomic-same-work',
  'raw-atomic-one-statement',
  'raw-lock',
  'racefree-lock',
  'raw-lock-same-work',
  'naive',
];

function inOrder<C extends BenchClient>(contenders: Contender<C>[]): Contender<C>[] {
  return [...contenders].sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id));
}

function scenario<C extends BenchClient>(admin: Admin, contenders: Contender<C>[]): Scenario<C> {
  return {
    id: 'purchase/hot-row',
    group: 'purchase',
    title: 'purchase, one hot row',
    description: `one book, ${START_STOCK.toLocaleString('en')} copies, every client buying it`,
    keys: KEY_MIXES.none,
    contenders,
    async reset() {
      await admin.query('truncate table orders');
      await admin.query(
        `update books set quantity = ${START_STOCK} where isbn = '978-0-00-000000-2'`,
      );
    },
    async check(contender, counts) {
      const [book] = await admin.query<{ quantity: number }>(
        `select quantity from books where isbn = '978-0-00-000000-2'`,
      );
      const [orders] = await admin.query<{ n: number | string }>(
        'select count(*) as n from orders',
      );
      const quantity = Number(book?.quantity);
      const sold = START_STOCK - quantity;
      const recorded = WITHOUT_ORDERS.has(contender.id) ? counts.allSucceeded : Number(orders?.n);
      const lost = recorded - sold;
      return {
        held: lost === 0 && quantity >= 0,
        anomalies: Math.abs(lost),
        detail: `stock down ${sold}, ${recorded} sales recorded${lost > 0 ? `: ${lost} lost updates` : ''}${quantity < 0 ? ', stock negative' : ''}`,
      };
    },
  };
}

function racefreeContenders<C extends BenchClient>(
  bookstore: BookstoreModule,
  fixture: BookstoreFixture,
): Contender<C>[] {
  const buy = (strategy: 'atomic' | 'lock' | 'naive') => async (c: C) => {
    await bookstore.purchase(c.db, {
      bookId: fixture.bookId,
      customerId: fixture.customerIds[c.index] as number,
      strategy,
    });
    return undefined;
  };
  return [
    {
      id: 'racefree-atomic',
      label: "bookstore purchase, strategy 'atomic' (conditional UPDATE in atomic())",
      role: 'racefree',
      baseline: 'raw-update',
      sameWorkBaseline: 'raw-atomic-same-work',
      op: buy('atomic'),
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
      id: 'naive',
      label: "bookstore purchase, strategy 'naive' (read, then write back: control)",
      role: 'control',
      baseline: 'raw-lock-same-work',
      op: buy('naive'),
    },
  ];
}

/**
 * The hand-written steps of a sale on one driver. `H` is what a statement runs on: the client's
 * connection in autocommit, or the transaction `transaction` opened on it.
 */
interface RawSale<C extends BenchClient, H> {
  autocommit(c: C): H;
  /** BEGIN; `work`; COMMIT (ROLLBACK and rethrow on failure). */
  transaction(c: C, work: (h: H) => Promise<void>): Promise<void>;
  /** The customer check `purchase` starts with. */
  checkCustomer(h: H, customerId: number): Promise<unknown>;
  /** The conditional `UPDATE … SET quantity = quantity - 1 … AND quantity > 0`. */
  decrement(h: H): Promise<void>;
  /** `SELECT … FOR UPDATE`, then `UPDATE … SET quantity = <read − 1>`. */
  lockAndDecrement(h: H): Promise<void>;
  insertOrder(h: H, customerId: number): Promise<unknown>;
}

/** The raw floors and the same work by hand, on either driver. */
function rawContenders<C extends BenchClient, H>(
  raw: RawSale<C, H>,
  fixture: BookstoreFixture,
): Contender<C>[] {
  const customerOf = (c: C) => fixture.customerIds[c.index] as number;
  return [
    {
      id: 'raw-update',
      label:
        'raw floor: UPDATE … SET quantity = quantity - 1 WHERE … AND quantity > 0 (autocommit)',
      role: 'floor',
      async op(c) {
        await raw.decrement(raw.autocommit(c));
        return undefined;
      },
    },
    {
      id: 'raw-atomic-same-work',
      label:
        'raw, same work as atomic: BEGIN; SELECT customer; conditional UPDATE; INSERT order; COMMIT',
      role: 'reference',
      async op(c) {
        const customer = customerOf(c);
        await raw.transaction(c, async (h) => {
          await raw.checkCustomer(h, customer);
          await raw.decrement(h);
          await raw.insertOrder(h, customer);
        });
        return undefined;
      },
    },
    {
      id: 'raw-lock',
      label: 'raw floor: BEGIN; SELECT … FOR UPDATE; UPDATE; COMMIT',
      role: 'floor',
      async op(c) {
        await raw.transaction(c, (h) => raw.lockAndDecrement(h));
        return undefined;
      },
    },
    {
      id: 'raw-lock-same-work',
      label:
        'raw, same work as lock: BEGIN; SELECT customer; SELECT … FOR UPDATE; UPDATE; INSERT order; COMMIT',
      role: 'reference',
      async op(c) {
        const customer = customerOf(c);
        await raw.transaction(c, async (h) => {
          await raw.checkCustomer(h, customer);
          await raw.lockAndDecrement(h);
          await raw.insertOrder(h, customer);
        });
        return undefined;
      },
    },
  ];
}

function postgresContenders(fixture: BookstoreFixture): Contender<PostgresClient>[] {
  const { bookId } = fixture;
  const raw: RawSale<PostgresClient, postgres.ISql> = {
    autocommit: (c) => c.sql,
    async transaction(c, work) {
      await c.sql.begin((tx) => work(tx));
    },
    checkCustomer: (h, customer) => h`select id from customers where id = ${customer}`,
    async decrement(h) {
      const result = await h`
        update books set quantity = quantity - 1 where id = ${bookId} and quantity > 0`;
      if (result.count === 0) throw new RawSoldOutError('sold out');
    },
    async lockAndDecrement(h) {
      const [book] = await h<{ quantity: number }[]>`
        select quantity from books where id = ${bookId} for update`;
      if (!book || book.quantity < 1) throw new RawSoldOutError('sold out');
      await h`update books set quantity = ${book.quantity - 1} where id = ${bookId}`;
    },
    insertOrder: (h, customer) =>
      h`insert into orders (book_id, customer_id) values (${bookId}, ${customer}) returning id`,
  };
  return [
    ...rawContenders(raw, fixture),
    {
      id: 'raw-atomic-one-statement',
      label:
        'raw, the sale in one autocommit statement: WITH sold AS (conditional UPDATE … RETURNING) INSERT INTO orders …',
      role: 'reference',
      async op(c) {
        // The row lock is held for no round trip at all: the order is written by the same
        // statement (an unknown customer is refused by the orders foreign key).
        const [order] = await c.sql`
          with sold as (
            update books set quantity = quantity - 1 where id = ${bookId} and quantity > 0 returning id
          )
          insert into orders (book_id, customer_id) select id, ${fixture.customerIds[c.index] as number} from sold returning id`;
        if (!order) throw new RawSoldOutError('sold out');
        return undefined;
      },
    },
  ];
}

function mysqlContenders(fixture: BookstoreFixture): Contender<MysqlClient>[] {
  const { bookId } = fixture;
  const raw: RawSale<MysqlClient, mysql.Connection> = {
    autocommit: (c) => c.conn,
    transaction: (c, work) => mysqlTransaction(c.conn, () => work(c.conn)),
    checkCustomer: (conn, customer) =>
      conn.query<RowDataPacket[]>('select id from customers where id = ?', [customer]),
    async decrement(conn) {
      const [result] = await conn.query<ResultSetHeader>(
        'update books set quantity = quantity - 1 where id = ? and quantity > 0',
        [bookId],
      );
      if (result.affectedRows === 0) throw new RawSoldOutError('sold out');
    },
    async lockAndDecrement(conn) {
      const [rows] = await conn.query<RowDataPacket[]>(
        'select quantity from books where id = ? for update',
        [bookId],
      );
      const quantity = Number(rows[0]?.quantity ?? 0);
      if (quantity < 1) throw new RawSoldOutError('sold out');
      await conn.query('update books set quantity = ? where id = ?', [quantity - 1, bookId]);
    },
    insertOrder: (conn, customer) =>
      conn.query<ResultSetHeader>('insert into orders (book_id, customer_id) values (?, ?)', [
        bookId,
        customer,
      ]),
  };
  return rawContenders(raw, fixture);
}
