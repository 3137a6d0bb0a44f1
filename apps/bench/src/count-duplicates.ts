import type { Admin } from './open-admin.js';
import type { InvariantCheck } from './scenario.js';

/** Invariant "one row per key": counts the rows beyond the first of each name in `table`. */
export async function countDuplicates(admin: Admin, table: string): Promise<InvariantCheck> {
  const [row] = await admin.query<{ total_rows: number | string; distinct_keys: number | string }>(
    `select count(*) as total_rows, count(distinct name) as distinct_keys from ${table}`,
  );
  const rows = Number(row?.total_rows ?? 0);
  const keys = Number(row?.distinct_keys ?? 0);
  const duplicates = rows - keys;
  return {
    held: duplicates === 0,
    anomalies: duplicates,
    detail: `${rows} rows for ${keys} keys${duplicates ? `: ${duplicates} duplicates` : ''}`,
  };
}
