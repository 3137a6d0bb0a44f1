import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from './database-config.js';

/** The server cannot be used as configured (bad credentials, no such database). Exit 1. */
export class ConnectionRefusedError extends Error {}

/** Network-level failures worth waiting out: the server may still be starting. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'PROTOCOL_CONNECTION_LOST',
  '57P03', // PostgreSQL: the database system is starting up
]);

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return messageOf(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}

/** True for an error that may go away by waiting (the server is down or starting). */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.some(isUnreachable);
  const code = codeOf(error);
  return code !== undefined && UNREACHABLE_CODES.has(code);
}

/**
 * Runs `probe` (one query on a fresh connection) until it succeeds. An unreachable server is
 * retried with doubling pauses (0.5 s, 1 s, 2 s, … at most 8 s), one log line per attempt, up to
 * `attempts`; anything else — refused credentials, a missing database — fails at once. The
 * error names the URL with its password hidden.
 */
export async function connectWithRetry(
  what: string,
  url: string,
  probe: () => Promise<void>,
  options: {
    attempts: number;
    /** Told about each retry: one line, and the details for structured logs. */
    onRetry: (
      line: string,
      details: { attempt: number; of: number; retryInMs: number; error: string },
    ) => void;
  },
): Promise<void> {
  const shown = redactUrl(url);
  for (let attempt = 1; ; attempt++) {
    try {
      await probe();
      return;
    } catch (error) {
      if (!isUnreachable(error))
        throw new ConnectionRefusedError(`cannot use ${what} at ${shown}: ${messageOf(error)}`);
      if (attempt >= options.attempts)
        throw new ConnectionRefusedError(
          `${what} at ${shown} is unreachable after ${attempt} attempts: ${messageOf(error)}`,
        );
      const pauseMs = Math.min(8000, 500 * 2 ** (attempt - 1));
      options.onRetry(
        `${what} at ${shown} is unreachable (attempt ${attempt} of ${options.attempts}); retrying in ${pauseMs} ms`,
        {
          attempt,
          of: options.attempts,
          retryInMs: pauseMs,
          error: messageOf(error),
        },
      );
      await sleep(pauseMs);
    }
  }
}

/**
 * postgres.js' `backoff` option for the apps' pools: seconds to wait before reconnecting after
 * `failures` failed connects — 0.1 s doubling, at most 1 s. postgres.js' own default grows to
 * 20 s (the count is shared by the pool) while queries queue: during an outage every request —
 * `/healthz` too — hung for up to 20 s, and the app noticed the server was back 20 s late. A
 * short, capped pause fails fast and recovers fast.
 *
 * @example postgres(url, { backoff: reconnectBackoffSeconds })
 */
export function reconnectBackoffSeconds(failures: number): number {
  return Math.min(1, 0.05 * 2 ** failures);
}
