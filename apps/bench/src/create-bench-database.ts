import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import type { Family } from './open-clients.js';

/** A database created for one run, dropped after it. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Runs one statement on the server at `serverUrl` (a superuser URL), on a connection of its own. */
async function onServer(family: Family, serverUrl: string, statement: string): Promise<void> {
  if (family === 'postgres') {
    const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await sql.unsafe(statement).finally(() => sql.end({ timeout: 5 }));
    return;
  }
  const conn = await mysql.createConnection({ uri: serverUrl });
  await conn.query(statement).finally(() => conn.end());
}

/**
 * Creates a fresh database on the server. Its settings are left as they are, durability
 * included; on PostgreSQL a lock timeout is set as a safety net, so a stuck run fails
 * instead of hanging.
 */
export async function createBenchDatabase(
  family: Family,
  serverUrl: string,
  prefix = 'bench',
): Promise<BenchDatabase> {
  const name = `rf_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await onServer(family, serverUrl, `create database ${name}`);
  if (family === 'postgres')
    await onServer(family, serverUrl, `alter database ${name} set lock_timeout = '60s'`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () =>
      onServer(
        family,
        serverUrl,
        `drop database if exists ${name}${family === 'postgres' ? ' with (force)' : ''}`,
      ),
  };
}
