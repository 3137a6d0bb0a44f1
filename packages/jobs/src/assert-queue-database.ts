import { current, type Database } from '@racefree/transactions';
import { executeRows } from '@racefree/transactions/internal';
import { type DatabaseIdentity, probeIdentity } from './database-identity.js';
import { ForeignTransactionError } from './errors.js';
import type { Queue } from './queue.js';

/** Identity per Drizzle database or transaction object, so each is probed at most once. */
const identities = new WeakMap<object, Promise<DatabaseIdentity>>();

/**
 * The identity of the database `tx` runs on, cached under `key` (the root database when known).
 * The probe runs on `tx` itself, never on another pooled connection: a caller inside a
 * transaction holds one connection already, and when every pooled connection is held that way
 * (a cold start under load) a probe on the pool would wait forever. A shared probe that failed
 * (its transaction broke) is not fatal for the others: they probe on their own transaction.
 */
async function identityOf(key: object, tx: Database): Promise<DatabaseIdentity> {
  const shared = identities.get(key);
  if (shared) {
    try {
      return await shared;
    } catch {
      // fall through: probe on this transaction
    }
  }
  const mine = probeIdentity((query) => executeRows(tx, query));
  identities.set(key, mine);
  mine.catch(() => {
    if (identities.get(key) === mine) identities.delete(key);
  });
  return mine;
}

/**
 * Throws `ForeignTransactionError` unless the transaction `tx` is on the queue's database.
 * Compared by cluster system identifier and database name, so different host names for one
 * server agree. When `tx` is the open transaction of `queueDb` (the `db` given to `createJobs`),
 * the root's cached identity is used and no query is sent; any other transaction is probed once.
 * A mismatch re-probes the queue once (its pool may have been pointed elsewhere since).
 */
export async function assertQueueDatabase(
  queue: Queue,
  tx: Database,
  queueDb: Database | undefined,
): Promise<void> {
  const cacheKey = queueDb !== undefined && current(queueDb) === tx ? queueDb : tx;
  const [given, cached] = await Promise.all([identityOf(cacheKey, tx), queue.identity()]);
  if (given.key === cached.key) return;
  const fresh = await queue.identity({ fresh: true });
  if (given.key !== fresh.key)
    throw new ForeignTransactionError(fresh.description, given.description);
}
