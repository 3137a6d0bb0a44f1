import { fillPlaceholders, type SQL } from 'drizzle-orm';
import { type Database, type RenderedQuery, renderQuery } from './database.js';

/**
 * Renders a raw `sql` template once per Drizzle dialect and returns a function that binds new
 * values to it — Drizzle's `.prepare()`, for the hand-written statements `db.execute` runs.
 * Write the template with `sql.placeholder('name')` where values go; pass the result to
 * `executeRows` / `executeStatement`. Drizzle's SQL builder then runs once, not on every call
 * (on a one-statement sale it was a sixth of the client's CPU). Safe because only the values
 * change between calls, and they always travel as parameters, never as SQL text.
 *
 * @example
 * const byId = renderOnce(sql`select title from books where id = ${sql.placeholder('id')}`);
 * const rows = await executeRows(db, byId(db, { id: 7 }));
 */
export function renderOnce(
  template: SQL,
): (db: Database, values?: Readonly<Record<string, unknown>>) => RenderedQuery {
  // A transaction shares its root database's dialect object, so one rendering serves both.
  const rendered = new WeakMap<object, RenderedQuery>();
  return (db, values = {}) => {
    const dialect = (db as unknown as { dialect: object }).dialect;
    let query = rendered.get(dialect);
    if (!query) {
      query = renderQuery(db, template);
      rendered.set(dialect, query);
    }
    return { sql: query.sql, params: fillPlaceholders(query.params as unknown[], values) };
  };
}
