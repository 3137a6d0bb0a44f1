/**
 * Counts what one benchmark client sends:
 * - `statements`: every statement the driver sends, BEGIN / COMMIT / SAVEPOINT included
 *   (postgres.js: Execute and simple Query messages on the wire, `countingPostgresSocket`;
 *   mysql2: a wrapper around `query` / `execute`);
 * - `roundTrips`: how often the client waits for the server. On postgres.js a parameterized
 *   statement its connection has not prepared yet costs two (Parse + Describe, wait for the
 *   parameter types, then Bind + Execute); Drizzle's postgres-js session sends its own queries
 *   unprepared, so each costs two every time, while racefree's statements and tagged-template
 *   ones are prepared and cost one once their connection has seen them. mysql2: one per
 *   statement;
 * - `logged`: what Drizzle's logger sees (no BEGIN / COMMIT / SAVEPOINT on postgres.js), the
 *   count `@racefree/rows` documents in its README. Raw contenders bypass Drizzle: it stays 0.
 */
export class StatementCounter {
  statements = 0;
  roundTrips = 0;
  logged = 0;

  /** For a driver wrapper that sees each statement as one request and one answer. */
  readonly onStatement = (): void => {
    this.statements += 1;
    this.roundTrips += 1;
  };

  /** A Drizzle logger: counts what Drizzle's logger sees. */
  readonly logger = {
    logQuery: (): void => {
      this.logged += 1;
    },
  };
}
