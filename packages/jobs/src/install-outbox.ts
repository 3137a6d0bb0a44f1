import type { Database } from '@racefree/transactions';
import { jobDialectFor } from './dialects/job-dialect-for.js';

/**
 * Creates racefree's outbox table (`racefree_outbox`) in `db` if it does not exist: on
 * MySQL/MariaDB, where every enqueue in a transaction writes it, and on PostgreSQL for
 * `createJobs({ delivery: 'outbox' })`. Idempotent and safe at every start-up, also from
 * several processes at once. Projects whose drizzle-kit schema owns their tables export
 * `outboxTable` (MySQL) or `pgOutboxTable` (PostgreSQL) from it instead.
 *
 * @example
 * await installOutbox(db); // at start-up, before the first enqueue
 */
export async function installOutbox(db: Database): Promise<void> {
  await jobDialectFor(db, 'installOutbox').outbox.install(db);
}
