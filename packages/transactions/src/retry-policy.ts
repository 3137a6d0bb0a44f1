import { InvalidArgumentError } from './errors.js';

/** How a transaction is retried on transient errors. */
export interface RetryPolicy {
  /** Re-runs after the first attempt; `3` means up to 4 attempts. */
  retries: number;
  /** First backoff ceiling in milliseconds (doubles per attempt, full jitter). Default 10. */
  baseDelayMs: number;
  /** Largest backoff ceiling in milliseconds. Default 1000. */
  maxDelayMs: number;
}

/**
 * `retries` as a count of re-runs after the first attempt (`3`: up to 4 attempts), or the same
 * count with its backoff spelled out: `{ retries: 3, baseDelayMs: 10, maxDelayMs: 1000 }`.
 */
export type RetriesOption =
  | number
  | { retries: number; baseDelayMs?: number | undefined; maxDelayMs?: number | undefined };

const OBJECT_KEYS = new Set(['retries', 'baseDelayMs', 'maxDelayMs']);

/** Validates a `retries` option (refused with `InvalidArgumentError` before any SQL) and fills in its defaults. */
export function retryPolicy(option: RetriesOption | undefined): RetryPolicy {
  if (option === undefined) return { retries: 0, baseDelayMs: 10, maxDelayMs: 1000 };
  if (typeof option !== 'number' && (option === null || typeof option !== 'object'))
    throw new InvalidArgumentError(
      `retries must be a number or { retries, baseDelayMs?, maxDelayMs? }, got ${JSON.stringify(option)}`,
    );
  if (typeof option === 'object') {
    const unknown = Object.keys(option).filter((key) => !OBJECT_KEYS.has(key));
    if (unknown.length > 0)
      throw new InvalidArgumentError(
        `retries has unknown option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: use { retries, baseDelayMs?, maxDelayMs? } (retries counts the re-runs after the first attempt, as the number form does)`,
      );
  }
  const spec = typeof option === 'number' ? { retries: option } : option;
  const valid = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (!valid(spec.retries) || spec.retries > 1000) {
    throw new InvalidArgumentError(
      `retries must be a whole number from 0 to 1000, got ${JSON.stringify(spec.retries)}`,
    );
  }
  const baseDelayMs = spec.baseDelayMs ?? 10;
  const maxDelayMs = spec.maxDelayMs ?? 1000;
  if (!valid(baseDelayMs) || !valid(maxDelayMs))
    throw new InvalidArgumentError('retry delays must be whole milliseconds ≥ 0');
  return { retries: spec.retries, baseDelayMs, maxDelayMs };
}

/**
 * Full-jitter exponential backoff: a random wait up to base·2^(attempt−1), capped. The jitter
 * is what breaks the lockstep of transactions that just deadlocked each other.
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt - 1, 20));
  return Math.floor(Math.random() * ceiling);
}
