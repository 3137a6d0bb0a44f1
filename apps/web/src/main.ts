import {
  ConfigError,
  ConnectionRefusedError,
  loadDatabaseConfig,
  migrate,
  positiveIntegerEnv,
  seed,
} from '@racefree/bookstore';
import { installIdempotency } from '@racefree/hono';
import type { AnyPgDatabase } from '@racefree/transactions';
import { createApp } from './create-app.js';
import { createHttpServer } from './http-server.js';
import { startLabQueue } from './lab/lab-queue.js';
import { createRaceLab } from './lab/race-lab.js';
import { openDatabase } from './open-database.js';
import { createSignUp } from './sign-up-service.js';

/**
 * Starts the bookstore web app: DATABASE_URL picks PostgreSQL or MySQL/MariaDB (the job queue
 * then lives on QUEUE_DATABASE_URL), migrations and seed data are applied, and the server
 * listens on PORT (default 3000). DATABASE_POOL_SIZE (default 20) sizes the connection pool,
 * DATABASE_CONNECT_ATTEMPTS (default 8) bounds the start-up retries of an unreachable server.
 * Configuration mistakes — and a PORT already in use — end in one line and exit code 1.
 */
// `pnpm demo` starts this process with an IPC channel, which closes when the supervisor is gone
// (however it ended, SIGKILL included). Watched from the first line: while starting, there is
// nothing to finish, so the process exits at once; once serving, `main` replaces this.
let onSupervisorGone = (): void => process.exit(0);
if (process.send) process.on('disconnect', () => onSupervisorGone());
// Gone while the modules were loading: the event has passed, the state tells.
if (process.send && !process.connected) onSupervisorGone();

async function main(): Promise<void> {
  const config = loadDatabaseConfig();
  const port = Number(process.env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`PORT must be a port number, got ${process.env.PORT}`);
  const hostname = process.env.HOST ?? '127.0.0.1';
  const attempts = positiveIntegerEnv('DATABASE_CONNECT_ATTEMPTS', 8);
  // Several web processes share the server's max_connections: size each pool to fit.
  const poolSize = positiveIntegerEnv('DATABASE_POOL_SIZE', 20);
  const database = await openDatabase(config, { max: poolSize, attempts });
  await migrate(database.db);
  // The Idempotency-Key table is @racefree/hono's, created by its own idempotent DDL (safe when
  // several webs start at once); the bookstore's migrations own only the bookstore's tables.
  await installIdempotency(database.db);
  await seed(database.db);
  const signUp = await createSignUp(database, config, { attempts });
  const labQueue = startLabQueue({
    connectionString: config.queueUrl,
    db: database.db,
    ...(database.kind === 'postgres' ? { queueDb: database.db as AnyPgDatabase } : {}),
  });
  const app = createApp({
    db: database.db,
    signUp: signUp.signUp,
    adminToken: process.env.ADMIN_TOKEN || undefined,
    lab: createRaceLab({ db: database.db, poolSize, queue: labQueue }),
  });
  const server = createHttpServer(app.fetch);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new ConfigError(
              `PORT ${port} is already in use on ${hostname}: stop what holds it, or set PORT to another port`,
            )
          : error,
      );
    });
    server.listen(port, hostname, resolve);
  });
  const address = server.address();
  const shown = typeof address === 'object' && address ? address.port : port;
  console.log(
    `racefree bookstore (${config.databaseKind}) listening on http://${hostname}:${shown}/`,
  );
  let stopping = false;
  const stop = (signal: string, deadlineMs = 10_000) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: finishing in-flight requests…`);
    server.close(() => {
      void labQueue
        .close()
        .then(() => signUp.close())
        .then(() => database.close())
        .then(() => process.exit(0));
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), deadlineMs).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // Serving: stop rather than live on, within 3 s (the embedded database is going away too).
  onSupervisorGone = () => stop('supervisor gone', 3000);
  if (process.send && !process.connected) onSupervisorGone();
}

main().catch((error: unknown) => {
  const known = error instanceof ConfigError || error instanceof ConnectionRefusedError;
  console.error(
    known ? (error as Error).message : `web failed to start: ${(error as Error)?.message ?? error}`,
  );
  process.exit(1);
});
