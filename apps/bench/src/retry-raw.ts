/** How often hand-written transactions are retried, like racefree's `atomic({ retries })` in the same scenario. */
export const RAW_RETRIES = 10;

/**
 * The retry loop hand-written code needs around a transaction: re-run it on a deadlock, a
 * serialization failure or a lock-wait timeout (PostgreSQL 40P01 / 40001, MySQL 1213 / 1205),
 * at once — the contention here is short-lived. Anything else is thrown.
 */
export async function retryRaw<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (attempt > RAW_RETRIES || !isTransientRaw(error)) throw error;
    }
  }
}

function isTransientRaw(error: unknown): boolean {
  const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
  return code === '40P01' || code === '40001' || errno === 1213 || errno === 1205;
}
