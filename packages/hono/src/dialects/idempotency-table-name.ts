/** The table idempotency keys live in, on PostgreSQL and on MySQL/MariaDB. */
export const IDEMPOTENCY_TABLE_NAME = 'racefree_idempotency_keys';

/** Its index on `expires_at`, which pruning reads. */
export const IDEMPOTENCY_EXPIRY_INDEX = 'racefree_idempotency_keys_expires_at';
