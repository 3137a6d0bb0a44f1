import {
  createPostgresTestDatabase,
  describeDialects,
  postgresAdminUrl,
  type TestDatabase,
} from '@racefree/testkit';
import { drizzle as drizzleMysql, type MySql2Database } from 'drizzle-orm/mysql2';
import { drizzle } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, purchase } from '../src/index.js';

// Every statement held while the book's row is locked costs hot-row throughput. Counted at the
// driver (postgres.js' debug hook: BEGIN and COMMIT included), on PostgreSQL.
let database: TestDatabase;
let client: postgres.Sql;
let sent: string[] = [];
let db: ReturnType<typeof drizzle>;
let bookId = 0;
let customerId = 0;

beforeAll(async () => {
  database = await createPostgresTestDatabase(postgresAdminUrl(), 'purchasestmts');
  client = postgres(database.url, {
    max: 2,
    onnotice: () => {},
    debug: (_connection, query) => sent.push(query.trim().split(/\s+/)[0]?.toLowerCase() ?? ''),
  });
  db = drizzle({ client });
  await migrate(db);
  await client.unsafe(
    "insert into books (isbn, title, price_cents, quantity) values ('9780000000001', 'Counted', 100, 10)",
  );
  await client.unsafe("insert into customers (email, name) values ('c@example.com', 'C')");
  [{ id: bookId }] = (await client.unsafe('select id from books')) as unknown as [{ id: number }];
  [{ id: customerId }] = (await client.unsafe('select id from customers')) as unknown as [
    { id: number },
  ];
  // The lock strategy probes the server once per database object; not part of a purchase.
  await purchase(db, { bookId, customerId, strategy: 'lock' });
});
afterAll(async () => {
  await client?.end({ timeout: 1 });
  await database?.drop();
});

const count = async (run: () => Promise<unknown>) => {
  sent = [];
  await run();
  return sent;
};

it("'atomic' sells in one statement: the conditional UPDATE and the order together", async () => {
  expect(await count(() => purchase(db, { bookId, customerId, strategy: 'atomic' }))).toEqual([
    'with',
  ]);
});

it("'lock' sends nothing between the locking read and COMMIT but the write", async () => {
  expect(await count(() => purchase(db, { bookId, customerId, strategy: 'lock' }))).toEqual([
    'begin',
    'select',
    'with',
    'commit',
  ]);
});

it('a failed purchase pays one more query to say why, and writes nothing', async () => {
  expect(
    await count(() =>
      purchase(db, { bookId, customerId: 99_999_999, strategy: 'atomic' }).catch(() => undefined),
    ),
  ).toEqual(['with', 'select']);
  const [row] = await client.unsafe(
    'select quantity, (select count(*)::int from orders) as orders from books where id = $1',
    [bookId],
  );
  expect(row).toEqual({ quantity: 7, orders: 3 });
});

// MySQL/MariaDB have no data-modifying CTE: the sale is an UPDATE and an INSERT. Inside 'lock',
// the block that took the row lock is what undoes a failed sale, so no savepoint is added
// between the lock and COMMIT. Counted at mysql2's callback connection (what both Drizzle's
// promise wrapper and racefree send through).
describeDialects(
  'purchase statements on MySQL/MariaDB',
  (t) => {
    let single: mysql.Connection;
    let mysqlDb: MySql2Database;
    let sentMysql: string[] = [];
    let ids: { bookId: number; customerId: number };

    beforeAll(async () => {
      single = await mysql.createConnection({ uri: t.database.url });
      const core = (single as unknown as { connection: { query(...args: unknown[]): unknown } })
        .connection;
      const query = core.query.bind(core);
      core.query = (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { sql: string }).sql;
        sentMysql.push(text.trim().split(/\s+/)[0]?.toLowerCase() ?? '');
        return query(...args);
      };
      mysqlDb = drizzleMysql({ client: single });
      await migrate(mysqlDb);
      await single.query(
        "insert into books (isbn, title, price_cents, quantity) values ('9780000000001', 'Counted', 100, 10)",
      );
      await single.query("insert into customers (email, name) values ('c@example.com', 'C')");
      const [rows] = await single.query(
        'select (select id from books) as bookId, (select id from customers) as customerId',
      );
      ids = (rows as { bookId: number; customerId: number }[])[0] as typeof ids;
      await purchase(mysqlDb, { ...ids, strategy: 'lock' });
    });
    afterAll(() => single?.end());

    const countMysql = async (run: () => Promise<unknown>) => {
      sentMysql = [];
      await run();
      return sentMysql;
    };

    it("'lock' sends nothing between the locking read and COMMIT but the two writes", async () => {
      expect(await countMysql(() => purchase(mysqlDb, { ...ids, strategy: 'lock' }))).toEqual([
        'begin',
        'select',
        'update',
        'insert',
        'commit',
      ]);
    });

    it("'atomic' is the two writes in a transaction of their own", async () => {
      expect(await countMysql(() => purchase(mysqlDb, { ...ids, strategy: 'atomic' }))).toEqual([
        'begin',
        'update',
        'insert',
        'commit',
      ]);
      const [rows] = await single.query(
        'select quantity, (select count(*) from orders) as orders from books',
      );
      const [row] = rows as { quantity: number; orders: number }[];
      expect({ quantity: Number(row?.quantity), orders: Number(row?.orders) }).toEqual({
        quantity: 7,
        orders: 3,
      });
    });
  },
  { kinds: ['mysql'] },
);
