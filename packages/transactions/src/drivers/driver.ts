/**
 * How racefree sends a rendered statement on one driver and reads its answer. postgres.js and
 * mysql2 answer in different shapes (the rows themselves, with a `count`; `[result, fields]`,
 * with `affectedRows` and `insertId`): each driver module says how to read its own, so the
 * functions that run statements read every driver alike. Members are plain functions, never
 * methods: they must not depend on `this`.
 */
export interface Driver {
  /**
   * Sends `text` with `args` on `db`'s connection (a transaction's own inside one) and resolves
   * with the driver's answer, or rejects with the driver's own error (`queryFailure` makes the error callers see).
   * Not async: it may throw synchronously (a session it cannot read).
   */
  run: (db: object, text: string, args: unknown[]) => Promise<unknown>;
  /** The rows of an answer; empty for a statement that returns none. */
  rows: (answer: unknown) => unknown[];
  /** How many rows the statement wrote (INSERT, UPDATE, DELETE). */
  affectedRows: (answer: unknown) => number;
  /** The first AUTO_INCREMENT id an INSERT generated; `undefined` where the driver reports none. */
  insertId: (answer: unknown) => number | undefined;
}
