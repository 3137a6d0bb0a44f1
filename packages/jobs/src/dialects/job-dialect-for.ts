import { type Database } from '@racefree/transactions';
import { familyOf } from '@racefree/transactions/internal';
import type { JobDialect } from './job-dialect.js';
import { mysqlJobDialect } from './mysql.js';
import { postgresJobDialect } from './postgres.js';

/**
 * The job dialect of `db`, from its Drizzle class alone (no SQL): enqueue must not add a probe
 * query to every transaction it joins. MySQL and MariaDB write the outbox the same way; where
 * they differ for the relay (SKIP LOCKED from MariaDB 10.6) the transactions dialect decides.
 */
export function jobDialectFor(db: Database, operation: string): JobDialect {
  return familyOf(db, operation) === 'postgres' ? postgresJobDialect : mysqlJobDialect;
}
