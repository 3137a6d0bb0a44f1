import mysql from 'mysql2/promise';
import postgres from 'postgres';
import { redactUrl } from '@racefree/testkit/redact-url';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './start-embedded-postgres.js';

/** The default local servers. */
export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * The PostgreSQL server to run on: the first of PG_URL, DATABASE_URL (when postgres://) and
 * the default local server that answers; when none does, an embedded server started now.
 */
export async function locatePostgres(
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
): Promise<{ url: string; embedded?: EmbeddedPostgres }> {
  const candidates = [env.PG_URL, env.DATABASE_URL, DEFAULT_PG_URL].filter(
    (url): url is string => !!url && /^postgres(ql)?:\/\//.test(url),
  );
  for (const url of candidates) {
    if (await answers(url)) return { url };
    say(`PostgreSQL at ${redactUrl(url)} does not answer`);
  }
  say('no PostgreSQL answers: starting an embedded one (embedded-postgres, temporary data)');
  const embedded = await startEmbeddedPostgres();
  return { url: embedded.url, embedded };
}

/** The MariaDB server (MYSQL_URL or the default), or why it cannot be used. */
export async function locateMysql(
  env: NodeJS.ProcessEnv,
): Promise<{ url: string; reachable: true } | { url: string; reachable: false; reason: string }> {
  const url = env.MYSQL_URL || DEFAULT_MYSQL_URL;
  try {
    const connection = await mysql.createConnection({ uri: url, connectTimeout: 3000 });
    await connection.query('select 1');
    await connection.end();
    return { url, reachable: true };
  } catch (error) {
    return { url, reachable: false, reason: (error as Error).message || String(error) };
  }
}
