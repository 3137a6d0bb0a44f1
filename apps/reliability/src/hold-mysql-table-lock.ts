import type mysql from 'mysql2/promise';
import type { HeldLock } from './held-lock.js';

/**
 * `LOCK TABLES <table> WRITE` on a dedicated connection: every other session's reads and
 * writes of the table wait (a metadata lock) until `release()` unlocks it.
 */
export async function holdMysqlTableLock(pool: mysql.Pool, table: string): Promise<HeldLock> {
  if (!/^[a-z_]+$/.test(table)) throw new Error(`not a table name: ${table}`);
  const connection = await pool.getConnection();
  try {
    await connection.query(`lock tables ${table} write`);
  } catch (error) {
    connection.release();
    throw error;
  }
  return {
    async release() {
      try {
        await connection.query('unlock tables');
      } finally {
        connection.release();
      }
    },
  };
}
