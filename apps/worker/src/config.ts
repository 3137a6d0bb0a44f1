import { ConfigError, loadDatabaseConfig } from '@racefree/bookstore';

/** The worker's settings, from the environment. */
export interface WorkerConfig {
  /** The application database: `postgres://…` or `mysql://…`. */
  databaseUrl: string;
  databaseKind: 'postgres' | 'mysql';
  /** The queue's PostgreSQL database (DATABASE_URL itself when that is PostgreSQL). */
  queueUrl: string;
  /** Jobs run at once (WORKER_CONCURRENCY, default 5). */
  concurrency: number;
  /** How often to look for scheduled jobs and retries (WORKER_POLL_INTERVAL_MS, default 2000). */
  pollIntervalMs: number;
  /** How often the outbox relay looks for rows when idle (RELAY_POLL_INTERVAL_MS, default 500). */
  relayPollIntervalMs: number;
  /** Connection attempts before giving up on an unreachable server (WORKER_CONNECT_ATTEMPTS, default 6). */
  connectAttempts: number;
}

/** A setting that cannot work; the message names it (passwords hidden). Exit 1. */
export { ConfigError };

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** Reads and checks the configuration; throws `ConfigError` with one readable line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const { databaseUrl, databaseKind, queueUrl } = loadDatabaseConfig(env);
  return {
    databaseUrl,
    databaseKind,
    queueUrl,
    concurrency: positiveInteger(env, 'WORKER_CONCURRENCY', 5),
    pollIntervalMs: positiveInteger(env, 'WORKER_POLL_INTERVAL_MS', 2000),
    relayPollIntervalMs: positiveInteger(env, 'RELAY_POLL_INTERVAL_MS', 500),
    connectAttempts: positiveInteger(env, 'WORKER_CONNECT_ATTEMPTS', 6),
  };
}
