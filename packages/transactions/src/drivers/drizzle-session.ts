import { DrizzleQueryError, entityKind, type SQL } from 'drizzle-orm';
import type { RenderedQuery } from '../database.js';

/** What racefree reads of a Drizzle database's session (public since 0.30; not in its types). */
export interface DrizzleSession {
  prepareQuery(
    query: RenderedQuery,
    fields: undefined,
    name?: string,
    isResponseInArrayMode?: boolean,
  ): { execute(): Promise<unknown> };
  /** The driver client: postgres.js' (scoped) `sql`, or mysql2's promise connection or pool. */
  client?: unknown;
  logger?: { logQuery(query: string, params: unknown[]): void };
}

/** What racefree reads of a Drizzle database or transaction. */
export interface DrizzleInternals {
  dialect: { sqlToQuery(query: SQL): RenderedQuery };
  session: DrizzleSession;
}

/** The session of a Drizzle database or transaction, and its Drizzle class name. */
export function sessionOf(db: object): { session: DrizzleSession; kind: string | undefined } {
  const { session } = db as DrizzleInternals;
  const kind = (session.constructor as { [entityKind]?: string } | undefined)?.[entityKind];
  return { session, kind };
}

/**
 * A failed statement's error as Drizzle's own query path throws it: a `DrizzleQueryError` with
 * the driver's error as `cause`. One that already is one (from Drizzle's session, on the
 * fallback path) is kept as it is, also when it comes from another copy of drizzle-orm (its CJS
 * build beside this ESM one), which `instanceof` would not recognise: wrapping it twice would
 * move the driver's error from `cause` to `cause.cause`.
 */
export function queryFailure(text: string, args: unknown[], error: unknown): Error {
  return isDrizzleQueryError(error) ? error : new DrizzleQueryError(text, args, error as Error);
}

function isDrizzleQueryError(error: unknown): error is Error {
  if (error instanceof DrizzleQueryError) return true;
  // Drizzle's error classes carry no entityKind; this one is known by its name and fields.
  return (
    error instanceof Error &&
    error.constructor?.name === 'DrizzleQueryError' &&
    typeof (error as { query?: unknown }).query === 'string' &&
    Array.isArray((error as { params?: unknown }).params)
  );
}
