import { RacefreeError } from '@racefree/transactions';

/**
 * The idempotency table does not exist in the database the middleware was given. Create it
 * at start-up with `installIdempotency(db)`, or export `pgIdempotencyTable` /
 * `mysqlIdempotencyTable` from your drizzle-kit schema and migrate. `cause` is the server's
 * error.
 */
export class IdempotencyTableMissingError extends RacefreeError {
  constructor(cause: unknown) {
    super(
      'IDEMPOTENCY_TABLE_MISSING',
      'idempotency: the table racefree_idempotency_keys does not exist. Run installIdempotency(db) at start-up, or add pgIdempotencyTable / mysqlIdempotencyTable to your drizzle-kit schema and migrate.',
      { cause },
    );
  }
}
