import { type DatabaseConfig, loadDatabaseConfig, positiveIntegerEnv } from '@racefree/bookstore';

/** The worker's settings, from the environment: the databases (as the web app reads them), and: */
export interface WorkerConfig extends DatabaseConfig {
  /** Jobs run at once (WORKER_CONCURRENCY, default 5). */
  concurrency: number;
  /** How often to look for scheduled jobs and retries (WORKER_POLL_INTERVAL_MS, default 2000). */
  pollIntervalMs: number;
  /** How often the outbox relay looks for rows when idle (RELAY_POLL_INTERVAL_MS, default 500). */
  relayPollIntervalMs: number;
  /** Connection attempts before giving up on an unreachable server (WORKER_CONNECT_ATTEMPTS, default 6). */
  connectAttempts: number;
  /**
   * A job locked by this worker but not running in it for this long is released
   * (WORKER_ORPHANED_LOCK_AGE_MS, default 120000; see release-orphaned-locks.ts).
   */
  orphanedLockAgeMs: number;
}

/** Reads and checks the configuration; throws `ConfigError` with one readable line. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return {
    ...loadDatabaseConfig(env),
    concurrency: positiveIntegerEnv('WORKER_CONCURRENCY', 5, env),
    pollIntervalMs: positiveIntegerEnv('WORKER_POLL_INTERVAL_MS', 2000, env),
    relayPollIntervalMs: positiveIntegerEnv('RELAY_POLL_INTERVAL_MS', 500, env),
    connectAttempts: positiveIntegerEnv('WORKER_CONNECT_ATTEMPTS', 6, env),
    orphanedLockAgeMs: positiveIntegerEnv('WORKER_ORPHANED_LOCK_AGE_MS', 120_000, env),
  };
}
