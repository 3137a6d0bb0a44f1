import type { Database } from '@racefree/transactions';
import { dialectOf, familyOf } from '@racefree/transactions/internal';
import { idempotencyDialectFor } from './dialects/idempotency-dialect-for.js';

/**
 * Creates the idempotency table (`racefree_idempotency_keys`) and its expiry index in `db` if
 * they do not exist, on PostgreSQL or MySQL/MariaDB. Idempotent and safe at every start-up,
 * also from several processes at once. Projects whose drizzle-kit schema owns their tables
 * export `pgIdempotencyTable` or `mysqlIdempotencyTable` from it instead.
 *
 * @example
 * await installIdempotency(db); // at start-up, before the first request
 */
export async function installIdempotency(db: Database): Promise<void> {
  familyOf(db, 'installIdempotency');
  await idempotencyDialectFor(await dialectOf(db)).install(db);
}
