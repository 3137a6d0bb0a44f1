import { drizzle as drizzleMysql, type MySql2Database } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
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

/** A PostgreSQL connection for tests: the Drizzle database and its raw postgres.js client. */
export interface PostgresConnection {
  kind: 'postgres';
  db: PostgresJsDatabase;
  client: postgres.Sql;
  /** Runs raw SQL and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** A MySQL/MariaDB connection pool for tests: the Drizzle database and its raw mysql2 pool. */
export interface MysqlConnection {
  kind: 'mysql';
  db: MySql2Database;
  client: mysql.Pool;
  query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export type TestConnection = PostgresConnection | MysqlConnection;

export interface ConnectOptions {
  /** Pool size; keep races at 20 or fewer (PostgreSQL allows 100 connections in all). Default 10. */
  max?: number;
  /** Log every statement Drizzle sends (for statement-count tests). */
  logger?: { logQuery(query: string, params: unknown[]): void };
}

/** Opens a pool on a test database. */
export async function connectTo(
  database: Pick<TestDatabase, 'kind' | 'url'>,
  options: ConnectOptions = {},
): Promise<TestConnection> {
  const max = options.max ?? 10;
  if (database.kind === 'postgres') {
    const client = postgres(database.url, { max, onnotice: () => {} });
    const db = drizzlePostgres({ client, logger: options.logger ?? false });
    return {
      kind: 'postgres',
      db,
      client,
      query: async <R>(text: string, params: unknown[] = []) =>
        (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as R[],
      // A query in flight on a reset connection never settles in postgres.js: do not wait long for it.
      close: () => client.end({ timeout: 1 }),
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
  const db = drizzleMysql({ client, logger: options.logger ?? false });
  return {
    kind: 'mysql',
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
  /** The test database (fresh for this file). */
  database: TestDatabase;
  /** A pool of 10 on the test database. */
  connection: TestConnection;
  /** Opens another pool on the same database (closed automatically after the suite). */
  connect(options?: ConnectOptions): Promise<TestConnection>;
}

/**
 * Declares `body` once per database kind, each on its own fresh database. MySQL/MariaDB
 * suites skip with one loud line when the server is unreachable, and fail under `CI=true`.
 */
export function describeDialects(
  title: string,
  body: (context: DialectContext) => void,
  options: { kinds?: DatabaseKind[] } = {},
): void {
  for (const kind of options.kinds ?? (['postgres', 'mysql'] as const)) {
    if (kind === 'mysql' && mysqlGate.status !== 'available') {
      if (mysqlGate.status === 'fail') {
        describe(`${title} [mysql]`, () => {
          it('needs a reachable MySQL/MariaDB server (CI=true)', () => {
            throw new Error(`${mysqlGate.reason}; CI=true makes a missing database a failure`);
          });
        });
      } else {
        console.warn(
          `\n!!! SKIPPED MySQL/MariaDB suite "${title}": ${mysqlGate.reason}. Set MYSQL_URL to run it.\n`,
        );
        describe.skip(`${title} [mysql]`, () => body(unavailableContext(kind)));
      }
      continue;
    }
    describe(`${title} [${kind}]`, () => {
      const pools: TestConnection[] = [];
      let database: TestDatabase | undefined;
      let connection: TestConnection | undefined;
      const context: DialectContext = {
        kind,
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
          const opened = await connectTo(context.database, connectOptions);
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

function unavailableContext(kind: DatabaseKind): DialectContext {
  const fail = (): never => {
    throw new Error('database unavailable');
  };
  return {
    kind,
    get database() {
      return fail();
    },
    get connection() {
      return fail();
    },
    connect: async () => fail(),
  };
}
