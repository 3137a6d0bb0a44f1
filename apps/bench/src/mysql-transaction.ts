import type mysql from 'mysql2/promise';

/**
 * A hand-written MySQL transaction on one connection: `BEGIN`, `fn`, `COMMIT`; `ROLLBACK` and
 * rethrow on failure. (InnoDB already rolled the whole transaction back after a deadlock; the
 * ROLLBACK is then a no-op.)
 */
export async function mysqlTransaction<T>(
  conn: mysql.Connection,
  fn: () => Promise<T>,
): Promise<T> {
  await conn.query('begin');
  try {
    const result = await fn();
    await conn.query('commit');
    return result;
  } catch (error) {
    await conn.query('rollback').catch(() => undefined);
    throw error;
  }
}
