/** How often hand-written transactions are retried, like racefree's `atomic({ retries })` here. */
export const RAW_RETRIES = 10;

/**
 * The retry loop hand-written code needs around a transaction: at once on a deadlock, a
 * serialization failure or a lock-wait timeout (40P01, 40001; MySQL 1213, 1205).
 */
export async function retryRaw<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const { code, errno } = (error ?? {}) as { code?: unknown; errno?: unknown };
      const transient = code === '40P01' || code === '40001' || errno === 1213 || errno === 1205;
      if (attempt > RAW_RETRIES || !transient) throw error;
    }
  }
}
