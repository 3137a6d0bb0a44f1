import { drizzle as drizzleMysql, type MySql2Database } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { countingPostgresSocket } from './counting-postgres-socket.js';
import { StatementCounter } from './statement-counter.js';

/** One benchmark client on PostgreSQL: its own connection, seen through Drizzle and raw. */
export interface PostgresClient {
  family: 'postgres';
  /** 0-based; also picks the client's customer in the purchase scenario. */
  index: number;
  /** Drizzle over this client's one connection. */
  db: PostgresJsDatabase;
  /** The raw postgres.js handle on the same connection (what the floors use). */
  sql: postgres.Sql;
  counter: StatementCounter;
}

/** One benchmark client on MySQL/MariaDB: its own connection, seen through Drizzle and raw. */
export interface MysqlClient {
  family: 'mysql';
  index: number;
  db: MySql2Database;
  /** The raw mysql2 connection (what the floors use). */
  conn: mysql.Connection;
  counter: StatementCounter;
}

/** A benchmark client of either family. */
export type BenchClient = PostgresClient | MysqlClient;

/** Options of `openPostgresClients`. */
export interface PostgresClientOptions {
  /**
   * Allow a second connection that closes after 1 s idle. `@racefree/jobs` probes the queue
   * database's identity once per Drizzle database through the *root* database, even when
   * called inside a transaction: with a single connection held by that transaction, the probe
   * waits forever. The spare serves that one probe; every measured statement still runs on
   * the client's first connection.
   */
  spareConnection?: boolean;
}

/**
 * Opens `count` PostgreSQL clients, each on its own single connection (postgres.js `max: 1`),
 * connected before the clock starts.
 */
export async function openPostgresClients(
  url: string,
  count: number,
  options: PostgresClientOptions = {},
): Promise<PostgresClient[]> {
  const clients: PostgresClient[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const counter = new StatementCounter();
      const sql = postgres(url, {
        max: options.spareConnection ? 2 : 1,
        ...(options.spareConnection ? { idle_timeout: 1 } : {}),
        onnotice: () => {},
        // A documented postgres.js option its type definitions leave out.
        ...({ socket: countingPostgresSocket(counter) } as object),
        connection: { application_name: `racefree-bench-${index}` },
      });
      clients.push({
        family: 'postgres',
        index,
        db: drizzlePostgres({
          client: sql,
          logger: counter.logger,
        }),
        sql,
        counter,
      });
      await sql`select 1`;
    }
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

/** Opens `count` MySQL/MariaDB clients, each on its own connection. */
export async function openMysqlClients(url: string, count: number): Promise<MysqlClient[]> {
  const clients: MysqlClient[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const counter = new StatementCounter();
      const conn = await mysql.createConnection({ uri: url });
      countStatements(conn, counter);
      clients.push({
        family: 'mysql',
        index,
        db: drizzleMysql({ client: conn, logger: counter.logger }),
        conn,
        counter,
      });
    }
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

/** Closes every client's connection (between scenarios, so the next one starts from zero). */
export async function closeClients(clients: readonly BenchClient[]): Promise<void> {
  await Promise.all(
    clients.map((client) =>
      (client.family === 'postgres' ? client.sql.end({ timeout: 5 }) : client.conn.end()).catch(
        () => undefined,
      ),
    ),
  );
}

/**
 * Counts every statement sent on `conn`, at its callback-style core connection: mysql2's
 * promise methods delegate there, and so does racefree (under the promise wrapper), so both
 * are counted (BEGIN and COMMIT included).
 */
function countStatements(conn: mysql.Connection, counter: StatementCounter): void {
  const core = (conn as unknown as { connection: Record<'query' | 'execute', Counted> }).connection;
  for (const method of ['query', 'execute'] as const) {
    const original = core[method].bind(core);
    core[method] = (...args: unknown[]) => {
      counter.onStatement();
      return original(...args);
    };
  }
}

type Counted = (...args: unknown[]) => unknown;
