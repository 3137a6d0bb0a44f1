import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import postgres from 'postgres';

/** A database created for one bench run, dropped afterwards. */
export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Creates a fresh database on the server at `serverUrl` (a superuser URL). Server settings are
 * left as they are — durability included; only a lock timeout is set as a safety net, so a
 * stuck run fails instead of hanging.
 */
export async function createBenchDatabase(
  family: 'postgres' | 'mysql',
  serverUrl: string,
  prefix = 'bench',
): Promise<BenchDatabase> {
  const name = `rf_${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  if (family === 'postgres') {
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${name}`);
      await admin.unsafe(`alter database ${name} set lock_timeout = '60s'`);
    } finally {
      await admin.end({ timeout: 5 });
    }
    return {
      name,
      url: withDatabase(serverUrl, name),
      async drop() {
        const dropper = postgres(serverUrl, { max: 1, onnotice: () => {} });
        try {
          await dropper.unsafe(`drop database if exists ${name} with (force)`);
        } finally {
          await dropper.end({ timeout: 5 });
        }
      },
    };
  }
  const admin = await mysql.createConnection({ uri: serverUrl });
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    async drop() {
      const dropper = await mysql.createConnection({ uri: serverUrl });
      try {
        await dropper.query(`drop database if exists ${name}`);
      } finally {
        await dropper.end();
      }
    },
  };
}
