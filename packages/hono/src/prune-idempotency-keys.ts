import { type Database, InvalidArgumentError } from '@racefree/transactions';
import { dialectOf, familyOf } from '@racefree/transactions/internal';
import { idempotencyDialectFor } from './dialects/idempotency-dialect-for.js';

/** Options of `pruneIdempotencyKeys`. */
export interface PruneIdempotencyKeysOptions {
  /** The most keys deleted by this call. Default 1000; at most 10 000. */
  limit?: number;
}

/**
 * Deletes expired idempotency keys — up to `limit`, oldest first — and resolves with how many
 * went. Safe while requests run: a key a request holds right now is skipped (SKIP LOCKED; on
 * MariaDB before 10.6 the delete waits for it instead), and a key is only deleted once
 * `expires_at` has passed by the database's clock, when it no longer replays anyway. The
 * middleware prunes on its own (its `prune` option); call this from a scheduled job when you
 * turn that off, looping while it returns `limit`.
 *
 * @example
 * while ((await pruneIdempotencyKeys(db, { limit: 5000 })) === 5000);
 */
export async function pruneIdempotencyKeys(
  db: Database,
  options: PruneIdempotencyKeysOptions = {},
): Promise<number> {
  familyOf(db, 'pruneIdempotencyKeys');
  const limit = options.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw new InvalidArgumentError(
      `pruneIdempotencyKeys: limit must be a whole number from 1 to 10000, got ${JSON.stringify(limit)}`,
    );
  const server = await dialectOf(db);
  return idempotencyDialectFor(server).prune(db, server, limit);
}
