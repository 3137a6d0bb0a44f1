import { entityKind } from 'drizzle-orm';
import { InvalidArgumentError, NotSupportedError } from '../errors.js';
import { classOf, type Driver } from './driver.js';
import { mysql2 } from './mysql2.js';
import { nodePostgres } from './node-postgres.js';
import { postgresJs } from './postgres-js.js';

/**
 * The supported drivers by Drizzle class name, from the drivers imported by name above: no
 * module registers itself on import, so a bundler honouring `sideEffects: false` keeps them all.
 */
const BY_CLASS = new Map<string, Driver>(
  [postgresJs, nodePostgres, mysql2].flatMap((driver) => [
    [driver.databaseClass, driver],
    [driver.transactionClass, driver],
  ]),
);
const SUPPORTED =
  'postgres.js 3.4+ and 4 (drizzle-orm/postgres-js), node-postgres 8 — a Pool, Client or PoolClient (drizzle-orm/node-postgres) — and mysql2 3 (drizzle-orm/mysql2)';

/**
 * The driver under a Drizzle database or transaction, from the class Drizzle's driver module
 * gave it (its public `entityKind`): read once per object's class, never by sending SQL. A
 * Drizzle database on another driver (PGlite, an HTTP driver, PlanetScale's, …) is refused
 * with `NotSupportedError` before any SQL; anything that is not a Drizzle database with
 * `InvalidArgumentError`.
 */
export function driverOf(db: unknown, operation = 'racefree'): Driver {
  const kind = classOf(db);
  const found = kind === undefined ? undefined : BY_CLASS.get(kind);
  if (found) return found;
  if (isDrizzleDatabase(db)) {
    throw new NotSupportedError(
      `${operation}: this Drizzle database runs on a driver racefree does not support (${String(kind)}). Supported: ${SUPPORTED}.`,
    );
  }
  throw new InvalidArgumentError(
    `${operation} needs a Drizzle database or one of its transactions (${SUPPORTED}); got ${describe(db)}.`,
  );
}

/**
 * Drizzle's base classes of a database (or transaction) of any driver, by `entityKind`: 0.44
 * and 0.45 call them `PgDatabase` and `MySqlDatabase`, 1.0 `PgAsyncDatabase` and
 * `MySqlAsyncDatabase`. Named, not imported: importing a class a version does not export would
 * fail to load under Node.
 */
const DRIZZLE_DATABASES = new Set([
  'PgDatabase',
  'PgAsyncDatabase',
  'MySqlDatabase',
  'MySqlAsyncDatabase',
]);

/** True for a Drizzle database of any driver: one of its classes is a Drizzle database base. */
function isDrizzleDatabase(db: unknown): boolean {
  if (db === null || typeof db !== 'object') return false;
  for (let proto = Object.getPrototypeOf(db); proto; proto = Object.getPrototypeOf(proto)) {
    const kind = (proto.constructor as { [entityKind]?: unknown } | undefined)?.[entityKind];
    if (typeof kind === 'string' && DRIZZLE_DATABASES.has(kind)) return true;
  }
  return false;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name ? `an object of class ${name}` : 'a plain object';
}
