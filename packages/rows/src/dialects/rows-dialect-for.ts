import type { Dialect } from '@racefree/transactions/internal';
import { mysqlRows } from './mysql.js';
import { postgresRows } from './postgres.js';
import type { RowsDialect } from './rows-dialect.js';

export type {
  InsertManyOutcome,
  InsertOutcome,
  Row,
  RowLock,
  RowsDialect,
  SelectRequest,
} from './rows-dialect.js';

/** The row strategies for a server: one object for PostgreSQL, one for MySQL and MariaDB. */
export function rowsDialectFor(dialect: Dialect): RowsDialect {
  return dialect.kind === 'postgres' ? postgresRows : mysqlRows;
}
