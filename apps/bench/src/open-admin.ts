import type { Database } from '@racefree/transactions';
import { drizzle as drizzleMysql } from 'drizzle-orm/mysql2';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import mysql from 'mysql2/promise';
import postgres from 'postgres';

/** A small pool for setup, resets and invariant checks (never used by a timed contender). */
export interface Admin {
  family: 'postgres' | 'mysql';
  /** Runs one SQL text (`$1` placeholders on PostgreSQL, `?` on MySQL) and returns its rows. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Drizzle over the same pool (two connections: migrations need one for their lock). */
  db: Database;
  close(): Promise<void>;
}

/** Opens the admin pool on the bench database. */
export async function openAdmin(family: 'postgres' | 'mysql', url: string): Promise<Admin> {
  if (family === 'postgres') {
    const sql = postgres(url, { max: 2, onnotice: () => {} });
    return {
      family,
      query: async <T>(text: string, params: unknown[] = []) =>
        Array.from(await sql.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as T[],
      db: drizzlePostgres({ client: sql }),
      close: () => sql.end({ timeout: 5 }),
    };
  }
  const pool = mysql.createPool({ uri: url, connectionLimit: 2 });
  return {
    family,
    query: async <T>(text: string, params: unknown[] = []) => {
      const [rows] = await pool.query(text, params);
      return (Array.isArray(rows) ? rows : []) as T[];
    },
    db: drizzleMysql({ client: pool }),
    close: () => pool.end(),
  };
}
