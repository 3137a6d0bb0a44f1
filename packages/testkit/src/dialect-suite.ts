import { drizzle as drizzleMysql, type MySql2Database } from 'drizzle-orm/mysql2';
import { drizzle as drizzleNodePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import {
  createMysqlTestDatabase,
  createPostgresTestDatabase,
  DEFAULT_MYSQL_URL,
  type DatabaseKind,
  probeMysql,
  type TestDatabase,
} from './test-databases.js';

declare module 'vitest' {
  export interface ProvidedContext {
    racefreePgUrl: string;
  }
}

/** Lock waits in MySQL test databases end after this many seconds: a stuck test fails before its own 30 s timeout, while 20 transactions queued on one hot row on a loaded CI machine still get through. */
export const MYSQL_TEST_LOCK_WAIT_SECONDS = 20;

/** The drivers the suites run on: two for PostgreSQL, one for MySQL/MariaDB. */
export type DriverName = 'postgres-js' | 'node-postgres' | 'mysql2';

/** Every driver, in the order suites are declared. */
export const ALL_DRIVERS: readonly DriverName[] = ['postgres-js', 'node-postgres', 'mysql2'];

/** The database kind a driver talks to. */
export function kindOfDriver(driver: DriverName): DatabaseKind {
  return driver === 'mysql2' ? 'mysql' : 'postgres';
}

/**
 * The drivers this run covers: all three, unless `RACEFREE_DRIVERS` names a subset (CI's pass
 * through PgBouncer runs one: `RACEFREE_DRIVERS=postgres-js`). A driver left out is not
 * declared at all — a deliberate narrowing, unlike an unreachable MySQL, which skips loudly.
 */
export function driversOfRun(): DriverName[] {
  const wanted = process.env.RACEFREE_DRIVERS?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (!wanted || wanted.length === 0) return [...ALL_DRIVERS];
  const unknown = wanted.filter((name) => !ALL_DRIVERS.includes(name as DriverName));
  if (unknown.length > 0)
    throw new Error(`RACEFREE_DRIVERS names ${unknown.join(', ')}; use ${ALL_DRIVERS.join(', ')}`);
  return ALL_DRIVERS.filter((name) => wanted.includes(name));
}

/**
 * True when this run goes through a transaction pooler (`RACEFREE_PG_POOLER=transaction`):
 * postgres.js clients are then opened with `prepare: false`, as its README says to do behind
 * PgBouncer in transaction mode.
 */
export function behindTransactionPooler(): boolean {
  return process.env.RACEFREE_PG_POOLER === 'transaction';
}

/** The URL of the PostgreSQL server tests create their databases on. */
export function postgresAdminUrl(): string {
  const url = process.env.PG_URL ?? inject('racefreePgUrl');
  if (!url)
    throw new Error('No PostgreSQL for tests: set PG_URL or run through the testkit global setup');
  return url;
}

/** The URL of the MySQL/MariaDB server tests create their databases on. */
export function mysqlAdminUrl(): string {
  return process.env.MYSQL_URL || DEFAULT_MYSQL_URL;
}

/** Decided once per test file: the MySQL suites run, skip loudly, or fail under CI=true. */
export const mysqlGate = await probeMysql(mysqlAdminUrl(), { ci: process.env.CI === 'true' });

/** What every test connection has, whatever its driver. */
interface ConnectionBase {
  /** Runs raw SQL (`$1` placeholders on PostgreSQL, `?` on MySQL) and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** A PostgreSQL pool on postgres.js: the Drizzle database and its raw client. */
export interface PostgresConnection extends ConnectionBase {
  kind: 'postgres';
  driver: 'postgres-js';
  db: PostgresJsDatabase;
  client: postgres.Sql;
}

/** A PostgreSQL pool on node-postgres: the Drizzle database and its raw `pg.Pool`. */
export interface NodePgConnection extends ConnectionBase {
  kind: 'postgres';
  driver: 'node-postgres';
  db: NodePgDatabase;
  client: pg.Pool;
}

/** A MySQL/MariaDB connection pool for tests: the Drizzle database and its raw mysql2 pool. */
export interface MysqlConnection extends ConnectionBase {
  kind: 'mysql';
  driver: 'mysql2';
  db: MySql2Database;
  client: mysql.Pool;
}

export type TestConnection = PostgresConnection | NodePgConnection | MysqlConnection;

export interface ConnectOptions {
  /** Pool size; keep races at 20 or fewer (PostgreSQL allows 100 connections in all). Default 10. */
  max?: number;
  /** Log every statement Drizzle sends (for statement-count tests). */
  logger?: { logQuery(query: string, params: unknown[]): void };
  /** The driver; default postgres.js on PostgreSQL, mysql2 on MySQL. */
  driver?: DriverName;
  /** Drizzle's `casing` for columns declared without a name (default: none). */
  casing?: 'snake_case' | 'camelCase';
}

/** Opens a pool on a test database. */
export async function connectTo(
  database: Pick<TestDatabase, 'kind' | 'url'>,
  options: ConnectOptions = {},
): Promise<TestConnection> {
  const max = options.max ?? 10;
  const driver = options.driver ?? (database.kind === 'postgres' ? 'postgres-js' : 'mysql2');
  if (kindOfDriver(driver) !== database.kind)
    throw new Error(`driver ${driver} cannot open a ${database.kind} database`);
  const logger = options.logger ?? false;
  const casing = options.casing ? { casing: options.casing } : {};
  if (driver === 'postgres-js') {
    const client = postgres(database.url, {
      max,
      onnotice: () => {},
      ...(behindTransactionPooler() ? { prepare: false } : {}),
    });
    const db = drizzlePostgres({ client, logger, ...casing });
    return {
      kind: 'postgres',
      driver,
      db,
      client,
      query: async <R>(text: string, params: unknown[] = []) =>
        (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as R[],
      // A query in flight on a reset connection never settles in postgres.js: do not wait long for it.
      close: () => client.end({ timeout: 1 }),
    };
  }
  if (driver === 'node-postgres') {
    const client = new pg.Pool({ connectionString: database.url, max });
    // An idle client whose backend a test terminated emits 'error' on the pool: without a
    // listener that is an uncaught exception. The pool drops the client by itself.
    client.on('error', () => {});
    const db = drizzleNodePg({ client, logger, ...casing });
    return {
      kind: 'postgres',
      driver,
      db,
      client,
      query: async <R>(text: string, params: unknown[] = []) =>
        (await client.query(text, params)).rows as R[],
      close: () => client.end(),
    };
  }
  const client = mysql.createPool({
    uri: database.url,
    connectionLimit: max,
    multipleStatements: false,
  });
  // A short lock wait turns a would-be hang into a fast, visible failure.
  client.pool.on('connection', (connection) => {
    connection.query(`SET SESSION innodb_lock_wait_timeout = ${MYSQL_TEST_LOCK_WAIT_SECONDS}`);
  });
  const db = drizzleMysql({ client, logger, ...casing });
  return {
    kind: 'mysql',
    driver: 'mysql2',
    db,
    client,
    query: async <R>(text: string, params: unknown[] = []) => {
      const [rows] = await client.query(text, params);
      return rows as R[];
    },
    close: () => client.end(),
  };
}

/** What a dialect suite hands its tests; fields are ready from `beforeAll` on. */
export interface DialectContext {
  kind: DatabaseKind;
  /** The driver this copy of the suite runs on. */
  driver: DriverName;
  /** The test database (fresh for this file and driver). */
  database: TestDatabase;
  /** A pool of 10 on the test database, on this suite's driver. */
  connection: TestConnection;
  /** Opens another pool on the same database (this suite's driver unless told; closed automatically after the suite). */
  connect(options?: ConnectOptions): Promise<TestConnection>;
}

/** Which suites to declare: by database kind, or by driver. */
export interface DescribeDialectsOptions {
  /** Only these kinds (each with all its drivers). */
  kinds?: DatabaseKind[];
  /** Only these drivers (intersected with `kinds` and the run's drivers, see `driversOfRun`). */
  drivers?: DriverName[];
}

/**
 * Declares `body` once per driver — postgres.js and node-postgres on PostgreSQL, mysql2 on
 * MySQL/MariaDB — each on its own fresh database, so a bug only one driver shows fails its
 * own suite (`RACEFREE_DRIVERS` narrows a run). MySQL/MariaDB suites skip with one loud line when the server is unreachable, and
 * fail under `CI=true`.
 */
export function describeDialects(
  title: string,
  body: (context: DialectContext) => void,
  options: DescribeDialectsOptions = {},
): void {
  const ofRun = driversOfRun();
  const drivers = ALL_DRIVERS.filter(
    (driver) =>
      ofRun.includes(driver) &&
      (!options.kinds || options.kinds.includes(kindOfDriver(driver))) &&
      (!options.drivers || options.drivers.includes(driver)),
  );
  if (drivers.length === 0) {
    // A run narrowed to other drivers (RACEFREE_DRIVERS): said as a skipped suite, so that a
    // file holding only this one is reported as skipped, not as empty.
    describe.skip(`${title} [none of this run's drivers: ${ofRun.join(', ')}]`, () => {
      it('runs on another driver', () => {});
    });
    return;
  }
  for (const driver of drivers) {
    const kind = kindOfDriver(driver);
    const label = `${title} [${driver === 'mysql2' ? 'mysql' : driver}]`;
    if (kind === 'mysql' && mysqlGate.status !== 'available') {
      if (mysqlGate.status === 'fail') {
        describe(label, () => {
          it('needs a reachable MySQL/MariaDB server (CI=true)', () => {
            throw new Error(`${mysqlGate.reason}; CI=true makes a missing database a failure`);
          });
        });
      } else {
        console.warn(
          `\n!!! SKIPPED MySQL/MariaDB suite "${title}": ${mysqlGate.reason}. Set MYSQL_URL to run it.\n`,
        );
        describe.skip(label, () => body(unavailableContext(kind, driver)));
      }
      continue;
    }
    describe(label, () => {
      const pools: TestConnection[] = [];
      let database: TestDatabase | undefined;
      let connection: TestConnection | undefined;
      const context: DialectContext = {
        kind,
        driver,
        get database() {
          if (!database) throw new Error('test database not ready: use it inside a test or hook');
          return database;
        },
        get connection() {
          if (!connection)
            throw new Error('test connection not ready: use it inside a test or hook');
          return connection;
        },
        async connect(connectOptions) {
          const opened = await connectTo(context.database, { driver, ...connectOptions });
          pools.push(opened);
          return opened;
        },
      };
      beforeAll(async () => {
        database =
          kind === 'postgres'
            ? await createPostgresTestDatabase(postgresAdminUrl())
            : await createMysqlTestDatabase(mysqlAdminUrl());
        connection = await context.connect();
      });
      afterAll(async () => {
        await Promise.allSettled(pools.map((pool) => pool.close()));
        await database?.drop();
      });
      body(context);
    });
  }
}

function unavailableContext(kind: DatabaseKind, driver: DriverName): DialectContext {
  const fail = (): never => {
    throw new Error('database unavailable');
  };
  return {
    kind,
    driver,
    get database() {
      return fail();
    },
    get connection() {
      return fail();
    },
    connect: async () => fail(),
  };
}
