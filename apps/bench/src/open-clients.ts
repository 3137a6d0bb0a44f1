import { once } from 'node:events';
import net from 'node:net';
import type { AnyMySqlDatabase, AnyPgDatabase, Database } from '@racefree/transactions';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import pg from 'pg';
import postgres from 'postgres';
import { StatementCounter } from './statement-counter.js';

export const DRIVERS = ['postgres.js', 'node-postgres', 'mysql2'] as const;
export type DriverName = (typeof DRIVERS)[number];
export type Family = 'postgres' | 'mysql';
export const familyOf = (driver: DriverName): Family =>
  driver === 'mysql2' ? 'mysql' : 'postgres';

/** Hand-written SQL on one connection, what the floors use; `?` placeholders on every driver. */
export interface Raw {
  /** `count`: rows written (matched, on mysql2) or returned. */
  query<R = Record<string, unknown>>(
    text: string,
    params?: readonly unknown[],
  ): Promise<{ rows: R[]; count: number; insertId?: number }>;
  /** BEGIN; `fn`; COMMIT — ROLLBACK and rethrow on failure. */
  transaction<T>(fn: (tx: Raw) => Promise<T>): Promise<T>;
}

/** One benchmark client: a connection, seen through Drizzle (`db`) and by hand (`raw`). */
export interface BenchClient {
  driver: DriverName;
  /** 0-based; picks the client's customer in the purchase scenario. */
  index: number;
  db: AnyPgDatabase | AnyMySqlDatabase;
  raw: Raw;
  counter: StatementCounter;
  close(): Promise<void>;
}

const dollarTexts = new Map<string, string>();
/** `?` → `$1, $2 …`, once per text: the floors pay a map lookup per call, not a regex. */
function dollars(text: string): string {
  let n = 0;
  let found = dollarTexts.get(text);
  if (found === undefined) dollarTexts.set(text, (found = text.replace(/\?/g, () => `$${++n}`)));
  return found;
}

async function simpleTransaction<T>(raw: Raw, fn: (tx: Raw) => Promise<T>): Promise<T> {
  await raw.query('begin');
  try {
    const result = await fn(raw);
    await raw.query('commit');
    return result;
  } catch (error) {
    // After a MySQL deadlock InnoDB has rolled everything back already: a no-op then.
    await raw.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** As tagged templates are sent: named statements, prepared once per connection. */
function postgresJsRaw(sql: postgres.Sql | postgres.TransactionSql): Raw {
  return {
    async query(text, params = []) {
      const rows = await sql.unsafe(dollars(text), params as never[], { prepare: true });
      return { rows: rows as unknown as never[], count: rows.count };
    },
    transaction: (fn) => (sql as postgres.Sql).begin((tx) => fn(postgresJsRaw(tx))) as never,
  };
}

/** pg's plain `client.query(text, values)`: unnamed, parse-bind-execute in one round trip. */
function nodePgRaw(client: pg.Client): Raw {
  const raw: Raw = {
    async query(text, params = []) {
      const result = await client.query(dollars(text), params as unknown[]);
      return { rows: result.rows, count: result.rowCount ?? 0 };
    },
    transaction: (fn) => simpleTransaction(raw, fn),
  };
  return raw;
}

function mysqlRaw(conn: mysql.Connection | mysql.Pool): Raw {
  const raw: Raw = {
    async query(text, params = []) {
      const [result] = await conn.query(text, params as unknown[]);
      if (Array.isArray(result)) return { rows: result as never[], count: result.length };
      const { affectedRows, insertId } = result as mysql.ResultSetHeader;
      return { rows: [], count: affectedRows, insertId };
    },
    transaction: (fn) => simpleTransaction(raw, fn),
  };
  return raw;
}

type Open = (url: string, index: number, max: number) => Promise<BenchClient>;
const OPEN: Record<DriverName, Open> = {
  async 'postgres.js'(url, index, max) {
    const counter = new StatementCounter();
    const sql = postgres(url, {
      max,
      onnotice: () => {},
      connection: { application_name: `racefree-bench-${index}` },
      // A documented postgres.js option its type definitions leave out.
      ...({
        socket: async ({ host, port }: { host: string[]; port: number[] }) => {
          const socket = net.connect({ host: host[0], port: port[0] ?? 5432, noDelay: true });
          await once(socket, 'connect');
          return counter.watch(socket);
        },
      } as object),
    });
    await sql`select 1`;
    const close = () => sql.end({ timeout: 5 });
    const db = drizzlePostgresJs({ client: sql });
    return { driver: 'postgres.js', index, db, raw: postgresJsRaw(sql), counter, close };
  },
  async 'node-postgres'(url, index) {
    const counter = new StatementCounter();
    // pg connects the stream it is handed, and writes through it.
    const stream = () => counter.watch(new net.Socket());
    const client = new pg.Client({ connectionString: url, stream });
    client.on('error', (error) => process.stderr.write(`client ${index}: ${error.message}\n`));
    await client.connect();
    const close = () => client.end();
    const db = drizzleNodePg({ client });
    return { driver: 'node-postgres', index, db, raw: nodePgRaw(client), counter, close };
  },
  async mysql2(url, index) {
    const counter = new StatementCounter();
    const conn = await mysql.createConnection({ uri: url });
    // The promise API delegates to its callback-style core, which Drizzle and the floors reach
    // alike: counting there sees every statement, BEGIN and COMMIT included.
    const core = (
      conn as unknown as { connection: Record<string, (...args: unknown[]) => unknown> }
    ).connection;
    for (const method of ['query', 'execute']) {
      const original = core[method]?.bind(core);
      core[method] = (...args: unknown[]) => {
        const first = args[0] as string | { sql?: string };
        counter.onStatement(typeof first === 'string' ? first : first?.sql);
        return original?.(...args);
      };
    }
    const close = () => conn.end();
    const db = drizzleMysql({ client: conn });
    return { driver: 'mysql2', index, db, raw: mysqlRaw(conn), counter, close };
  },
};

/**
 * `count` clients, each on its own connection, connected before any clock starts; `pooled`
 * (postgres.js): all on one Drizzle database over a pool of `count`, as one application's
 * requests are.
 */
export async function openClients(
  driver: DriverName,
  url: string,
  count: number,
  pooled = false,
): Promise<BenchClient[]> {
  if (pooled) {
    const shared = await OPEN[driver](url, 0, count);
    return Array.from({ length: count }, (_, index) => ({ ...shared, index }));
  }
  const clients: BenchClient[] = [];
  try {
    for (let index = 0; index < count; index++) clients.push(await OPEN[driver](url, index, 1));
  } catch (error) {
    await closeClients(clients);
    throw error;
  }
  return clients;
}

export async function closeClients(clients: readonly BenchClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
}

/** A small pool for setup, resets and checks: never used by a timed contender. */
export interface Admin {
  family: Family;
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Drizzle over the pool (two connections: migrations hold one for their lock). */
  db: Database;
  close(): Promise<void>;
}

export function openAdmin(family: Family, url: string): Admin {
  const sql = family === 'postgres' ? postgres(url, { max: 2, onnotice: () => {} }) : undefined;
  const pool = sql ? undefined : mysql.createPool({ uri: url, connectionLimit: 2 });
  const raw = sql ? postgresJsRaw(sql) : mysqlRaw(pool as mysql.Pool);
  return {
    family,
    query: async <T>(text: string, params?: readonly unknown[]) =>
      (await raw.query<T>(text, params)).rows,
    db: sql ? drizzlePostgresJs({ client: sql }) : drizzleMysql({ client: pool as mysql.Pool }),
    close: () => (sql ? sql.end({ timeout: 5 }) : (pool as mysql.Pool).end()),
  };
}
