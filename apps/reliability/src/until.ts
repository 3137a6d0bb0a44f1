import { setTimeout as sleep } from 'node:timers/promises';

/** Options of `until`. */
export interface UntilOptions {
  /** Give up (throw) after this long. Default 30 000 ms. */
  timeoutMs?: number;
  /** Pause between checks. Default 50 ms. */
  intervalMs?: number;
}

/**
 * Polls `check` until it returns a value other than `undefined` / `false`, and returns that
 * value. This observes a state (a row, a lock waiter, an answer); it never stands in for one:
 * faults are injected once the state has been seen, not after a pause that hopes for it.
 *
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: UntilOptions = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}
