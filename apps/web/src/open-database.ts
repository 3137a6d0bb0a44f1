import {
  connectWithRetry,
  type DatabaseConfig,
  reconnectBackoffSeconds,
} from '@racefree/bookstore';
import type { Database } from '@racefree/transactions';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import postgres from 'postgres';

/** A pooled Drizzle database and how to close it. */
export interface OpenDatabase {
  kind: DatabaseConfig['databaseKind'];
  db: Database;
  close(): Promise<void>;
}

/**
 * Opens a pool on the bookstore's database and waits until it answers: an unreachable server
 * is retried with backoff for a bounded time (one line per attempt); refused credentials or a
 * missing database fail at once with one line naming the URL, password hidden.
 */
export async function openDatabase(
  config: DatabaseConfig,
  options: { max?: number; attempts?: number; onRetry?: (line: string) => void } = {},
): Promise<OpenDatabase> {
  const max = options.max ?? 20;
  let opened: OpenDatabase;
  let probe: () => Promise<void>;
  if (config.databaseKind === 'postgres') {
    const client = postgres(config.databaseUrl, {
      max,
      onnotice: () => {},
      connect_timeout: 5,
      // Not postgres.js' default (up to 20 s): /healthz and requests fail fast in an outage.
      backoff: reconnectBackoffSeconds,
    });
    opened = {
      kind: 'postgres',
      db: drizzlePostgres({ client }),
      close: () => client.end({ timeout: 5 }),
    };
    probe = async () => {
      await client`select 1`;
    };
  } else {
    const pool = mysql.createPool({
      uri: config.databaseUrl,
      connectionLimit: max,
      connectTimeout: 5000,
    });
    opened = { kind: 'mysql', db: drizzleMysql({ client: pool }), close: () => pool.end() };
    probe = async () => {
      await pool.query('select 1');
    };
  }
  try {
    await connectWithRetry('the bookstore database', config.databaseUrl, probe, {
      attempts: options.attempts ?? 8,
      onRetry: options.onRetry ?? ((line) => console.error(line)),
    });
  } catch (error) {
    await opened.close().catch(() => undefined);
    throw error;
  }
  return opened;
}
