import type { Database } from '@racefree/transactions';
import type { Dialect } from '@racefree/transactions/internal';
import type {
  IdempotencyDialect,
  KeyClaim,
  KeyRecord,
} from './dialects/idempotency-dialect-for.js';

/** The key is this transaction's to run the handler under, or another request's completed one. */
export type ClaimOutcome = { claimed: true } | { row: KeyRecord };

/**
 * Claims `claim.key` in the transaction `tx`: the first statement of the block that will run
 * the handler and store its response.
 *
 * At most once comes from the primary key, not from memory: the claim is a row inserted in
 * the request's own transaction, so a concurrent duplicate's insert of the same key waits on
 * it — on PostgreSQL for the first transaction to end, on InnoDB for its record lock — and
 * learns the outcome: committed (the key has a stored response: replay it), or rolled back
 * (the claim never existed: this insert goes in, and this request runs the handler). The wait
 * is bounded by `waitMs`; when it runs out the dialect's error `isWaitOver` recognises is
 * thrown, and the caller answers 409. An expired row is taken over under its lock.
 */
export async function claimKey(
  tx: Database,
  store: IdempotencyDialect,
  server: Dialect,
  claim: KeyClaim,
  waitMs: number,
): Promise<ClaimOutcome> {
  return store.withLockWait(tx, server, waitMs, async (prefix) => {
    // A row can vanish between a conflicting insert and the read that follows it only if
    // pruning deleted it (it had expired): the next insert then goes in, or meets a newer row.
    for (let tries = 0; tries < 5; tries++) {
      const found = await store.insertOrLock(tx, claim, prefix);
      if ('inserted' in found) return { claimed: true };
      if ('gone' in found) continue;
      if (!found.row.expired) return { row: found.row };
      await store.takeOver(tx, claim, prefix);
      return { claimed: true };
    }
    throw new Error(`idempotency: key ${claim.key} kept disappearing while being claimed`);
  });
}
