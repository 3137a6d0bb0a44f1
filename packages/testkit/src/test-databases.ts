import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { redactUrl } from './redact-url.js';

/** The database kinds the suites run on. MariaDB is reached through the `mysql` kind. */
export type DatabaseKind = 'postgres' | 'mysql';

/** The default MySQL/MariaDB server of a developer machine and CI. */
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

function randomName(prefix: string): string {
  return `rf_${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A database created for one test file and dropped afterwards. */
export interface TestDatabase {
  kind: DatabaseKind;
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates a fresh PostgreSQL database on the server at `adminUrl` with a short
 * `deadlock_timeout`, so deadlock tests take milliseconds.
 */
export async function createPostgresTestDatabase(
  adminUrl: string,
  prefix = 't',
): Promise<TestDatabase> {
  const name = randomName(prefix);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
    await admin.unsafe(`ALTER DATABASE ${name} SET deadlock_timeout = '50ms'`);
    await admin.unsafe(`ALTER DATABASE ${name} SET lock_timeout = '20s'`);
  } finally {
    await admin.end();
  }
  return {
    kind: 'postgres',
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Creates a fresh MySQL/MariaDB database on the server at `adminUrl`. */
export async function createMysqlTestDatabase(
  adminUrl: string,
  prefix = 't',
): Promise<TestDatabase> {
  const name = randomName(prefix);
  const admin = await mysql.createConnection({ uri: adminUrl });
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    kind: 'mysql',
    name,
    url: withDatabase(adminUrl, name),
    async drop() {
      const dropper = await mysql.createConnection({ uri: adminUrl });
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name}`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** Whether the MySQL/MariaDB suites run, are skipped, or must fail (CI=true and no server). */
export type MysqlGate =
  | { status: 'available'; url: string }
  | { status: 'skip'; url: string; reason: string }
  | { status: 'fail'; url: string; reason: string };

/**
 * Probes the MySQL/MariaDB server once. Unreachable → skip, loudly; unreachable with `ci`
 * set → fail, because a CI run that silently skips half the suite proves nothing.
 */
export async function probeMysql(url: string, options: { ci: boolean }): Promise<MysqlGate> {
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await connection.query('SELECT 1');
    await connection.end();
    return { status: 'available', url };
  } catch (error) {
    const reason = `MySQL/MariaDB at ${redactUrl(url)} is unreachable (${(error as Error).message || String(error)})`;
    return options.ci ? { status: 'fail', url, reason } : { status: 'skip', url, reason };
  }
}
