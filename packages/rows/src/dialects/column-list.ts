import { type Column, type SQL, sql } from 'drizzle-orm';
import type { RowContext } from '../context.js';

/**
 * `t.a as a, …`: the named columns, or all of them (never `*`: a column added later must not
 * change a result), each rendered by Drizzle — with the database's `casing` applied to a column
 * declared without a name — and selected as its property key, for `mapRow`.
 */
export function columnList(ctx: RowContext, keys?: readonly string[]): SQL {
  return sql.join(
    (keys ?? [...ctx.meta.columns.keys()]).map(
      (key) => sql`${ctx.meta.columns.get(key) as Column} as ${sql.identifier(key)}`,
    ),
    sql`, `,
  );
}
