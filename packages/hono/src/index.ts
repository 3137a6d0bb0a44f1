export { type AtomicRequestsOptions, atomicRequests } from './atomic-requests.js';
export { mysqlIdempotencyTable } from './dialects/mysql-idempotency-table.js';
export { pgIdempotencyTable } from './dialects/pg-idempotency-table.js';
export { type IdempotencyOptions, idempotency } from './idempotency.js';
export { IdempotencyTableMissingError } from './idempotency-table-missing-error.js';
export { IdempotentResponseTooLargeError } from './idempotent-response-too-large-error.js';
export { installIdempotency } from './install-idempotency.js';
export { NonAtomicIgnoredError, nonAtomic } from './non-atomic.js';
export {
  type PruneIdempotencyKeysOptions,
  pruneIdempotencyKeys,
} from './prune-idempotency-keys.js';
export { isAtomicRequest } from './request-state.js';
