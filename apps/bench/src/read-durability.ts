import type { Admin } from './open-admin.js';

/** The durability settings in force, and whether commits are durable (never relaxed here). */
export async function readDurability(admin: Admin): Promise<{ text: string; durable: boolean }> {
  if (admin.family === 'postgres') {
    const [row] = await admin.query<{ sc: string; fsync: string; wal_sync: string }>(
      `select current_setting('synchronous_commit') as sc, current_setting('fsync') as fsync, current_setting('wal_sync_method') as wal_sync`,
    );
    return {
      text: `synchronous_commit = ${row?.sc}, fsync = ${row?.fsync}, wal_sync_method = ${row?.wal_sync}`,
      durable: row?.sc !== 'off' && row?.fsync === 'on',
    };
  }
  const [row] = await admin.query<{
    flush: number | string;
    sync_binlog: number | string;
    log_bin: number | string;
  }>(
    'select @@innodb_flush_log_at_trx_commit as flush, @@sync_binlog as sync_binlog, @@log_bin as log_bin',
  );
  return {
    text: `innodb_flush_log_at_trx_commit = ${row?.flush}, log_bin = ${row?.log_bin}, sync_binlog = ${row?.sync_binlog}`,
    durable: Number(row?.flush) === 1,
  };
}
