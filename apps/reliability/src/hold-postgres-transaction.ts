import type postgres from 'postgres';
import type { HeldLock } from './held-lock.js';

/**
 * Runs `statements` in a transaction and keeps it open — and every lock they took held — until
 * `release()` commits it. Resolves once the statements ran (the locks are held).
 *
 * @example
 * const lock = await holdPostgresTransaction(sql, ['lock table sent_emails in share row exclusive mode']);
 * // … the welcome-email handlers now wait inside their transactions …
 * await lock.release();
 */
export async function holdPostgresTransaction(
  sql: postgres.Sql,
  statements: readonly string[],
): Promise<HeldLock> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let acquired: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    acquired = resolve;
  });
  const done = sql.begin(async (tx) => {
    for (const statement of statements) await tx.unsafe(statement);
    acquired();
    await released;
  });
  await Promise.race([ready, done]);
  return {
    async release() {
      release();
      await done;
    },
  };
}
