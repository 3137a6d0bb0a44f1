import { OutboxMissingError } from '../errors.js';

/**
 * Wraps outbox statements so that a missing outbox table surfaces as `OutboxMissingError`,
 * which says how to create it, instead of the driver's bare "no such table".
 */
export function guardOutbox(
  database: 'PostgreSQL' | 'MySQL/MariaDB',
  isMissingTable: (error: unknown) => boolean,
): <T>(statement: () => Promise<T>) => Promise<T> {
  return async (statement) => {
    try {
      return await statement();
    } catch (error) {
      if (isMissingTable(error)) throw new OutboxMissingError(error, database);
      throw error;
    }
  };
}

/** The first value `pick` finds on `error` or its causes (Drizzle wraps driver errors). */
export function inCauses<T>(error: unknown, pick: (error: object) => T | undefined): T | undefined {
  for (let e: unknown = error, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const found = pick(e);
    if (found !== undefined) return found;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
