import { serve } from '@hono/node-server';
import {
  ConfigError,
  ConnectionRefusedError,
  loadDatabaseConfig,
  migrate,
  positiveIntegerEnv,
  seed,
} from '@racefree/bookstore';
import { createApp } from './create-app.js';
import { openDatabase } from './open-database.js';
import { createSignUp } from './sign-up-service.js';

/**
 * Starts the bookstore web app: DATABASE_URL picks PostgreSQL or MySQL/MariaDB (the job queue
 * then lives on QUEUE_DATABASE_URL), migrations and seed data are applied, and the server
 * listens on PORT (default 3000). DATABASE_POOL_SIZE (default 20) sizes the connection pool,
 * DATABASE_CONNECT_ATTEMPTS (default 8) bounds the start-up retries of an unreachable server.
 * Configuration mistakes end in one line and exit code 1.
 */
async function main(): Promise<void> {
  const config = loadDatabaseConfig();
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT must be a port number, got ${process.env.PORT}`);
  const attempts = positiveIntegerEnv('DATABASE_CONNECT_ATTEMPTS', 8);
  const database = await openDatabase(config, {
    // Several web processes share the server's max_connections: size each pool to fit.
    max: positiveIntegerEnv('DATABASE_POOL_SIZE', 20),
    attempts,
  });
  await migrate(database.db);
  await seed(database.db);
  const signUp = await createSignUp(database, config, { attempts });
  const app = createApp({
    db: database.db,
    signUp: signUp.signUp,
    adminToken: process.env.ADMIN_TOKEN || undefined,
  });
  const server = serve(
    { fetch: app.fetch, port, hostname: process.env.HOST ?? '127.0.0.1' },
    (info) => {
      console.log(
        `racefree bookstore (${config.databaseKind}) listening on http://${info.address}:${info.port}/`,
      );
    },
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests…`);
    server.close(() => {
      void signUp
        .close()
        .then(() => database.close())
        .then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof ConnectionRefusedError;
  console.error(
    known ? (error as Error).message : `web failed to start: ${(error as Error)?.message ?? error}`,
  );
  process.exit(1);
});
