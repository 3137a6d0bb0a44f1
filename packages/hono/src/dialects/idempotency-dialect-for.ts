import type { Dialect } from '@racefree/transactions/internal';
import type { IdempotencyDialect } from './idempotency-dialect.js';
import { mariadbIdempotency, mysqlIdempotency } from './mysql.js';
import { postgresIdempotency } from './postgres.js';

export type {
  IdempotencyDialect,
  ClaimOutcome,
  KeyClaim,
  KeyRecord,
  StoredResponse,
} from './idempotency-dialect.js';

const BY_KIND = {
  postgres: postgresIdempotency,
  mysql: mysqlIdempotency,
  mariadb: mariadbIdempotency,
} as const;

/** The idempotency strategies for a server. */
export function idempotencyDialectFor(server: Dialect): IdempotencyDialect {
  return BY_KIND[server.kind];
}
