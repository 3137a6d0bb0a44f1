/**
 * Counts what one benchmark client sends:
 * - `statements`: every statement the driver sends, BEGIN / COMMIT / SAVEPOINT included (the
 *   postgres.js `debug` hook; a wrapper around mysql2's `query` / `execute`);
 * - `roundTrips`: `statements` plus the extra round trip postgres.js makes for a statement
 *   with parameters that is not prepared on its connection yet (it sends Parse + Describe and
 *   waits for the parameter types before Bind + Execute; `countingPostgresClient` counts them).
 *   Drizzle's postgres-js session runs its own queries unprepared, so each of its
 *   parameterized statements costs two round trips; racefree's statements and tagged-template
 *   ones are prepared and cost one once their connection has seen them;
 * - `logged`: what Drizzle's logger sees (no BEGIN / COMMIT / SAVEPOINT on postgres.js), the
 *   count `@racefree/rows` documents in its README.
 * Raw contenders bypass Drizzle: their `logged` stays 0.
 */
export class StatementCounter {
  statements = 0;
  logged = 0;
  /** Extra round trips of parameterized statements not prepared yet (postgres.js describe-first). */
  describes = 0;

  /** Every statement sent, and its extra describe round trip where there is one. */
  get roundTrips(): number {
    return this.statements + this.describes;
  }

  /** For postgres.js' `debug` option: called once per statement sent. */
  readonly onStatement = (): void => {
    this.statements += 1;
  };

  /** A Drizzle logger: counts what Drizzle's logger sees. */
  readonly logger = {
    logQuery: (): void => {
      this.logged += 1;
    },
  };
}
