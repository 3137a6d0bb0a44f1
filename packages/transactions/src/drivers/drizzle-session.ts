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
 * the driver's error as `cause` (one from Drizzle's session already is one, and is kept).
 */
export function queryFailure(text: string, args: unknown[], error: unknown): Error {
  return error instanceof DrizzleQueryError
    ? error
    : new DrizzleQueryError(text, args, error as Error);
}
