import { current, type Database, executeRows } from '@racefree/transactions';
import { type DatabaseIdentity, probeIdentity } from './database-identity.js';
import { ForeignTransactionError } from './errors.js';
import type { Queue } from './queue.js';

/** Identity per Drizzle database or transaction object, so each is probed at most once. */
const identities = new WeakMap<object, Promise<DatabaseIdentity>>();

function identityOf(db: Database): Promise<DatabaseIdentity> {
  let found = identities.get(db);
  if (!found) {
    found = probeIdentity((query) => executeRows(db, query));
    identities.set(db, found);
    found.catch(() => identities.delete(db));
  }
  return found;
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
  const probed = queueDb !== undefined && current(queueDb) === tx ? queueDb : tx;
  const [given, cached] = await Promise.all([identityOf(probed), queue.identity()]);
  if (given.key === cached.key) return;
  const fresh = await queue.identity({ fresh: true });
  if (given.key !== fresh.key)
    throw new ForeignTransactionError(fresh.description, given.description);
}
