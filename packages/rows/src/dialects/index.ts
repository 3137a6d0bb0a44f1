import type { Dialect } from '@racefree/transactions/internal';
import { mysqlFamilyRows } from './mysql.js';
import { postgresRows } from './postgres.js';
import type { RowsDialect } from './rows-dialect.js';

export type { InsertOutcome, RowsDialect } from './rows-dialect.js';

const cache = new WeakMap<Dialect, RowsDialect>();

/** The row strategies for a server (MariaDB differs from MySQL in RETURNING and SET STATEMENT). */
export function rowsDialectFor(dialect: Dialect): RowsDialect {
  let found = cache.get(dialect);
  if (!found) {
    found = dialect.kind === 'postgres' ? postgresRows : mysqlFamilyRows(dialect);
    cache.set(dialect, found);
  }
  return found;
}
