import { MultipleRowsError } from '@racefree/transactions';
import { matching } from './conditions.js';
import type { RowContext } from './context.js';
import type { Row, RowLock } from './dialects/rows-dialect.js';
import { checkMatches } from './resolve-key.js';
import { statementCache } from './statement-cache.js';
import type { UniqueKey } from './table-meta.js';

/**
 * Reads the row holding `key`'s values of `where` (with `lock`, if any), checks its other
 * `where` columns, and returns it; `undefined` when there is none. Two rows on a unique key
 * cannot happen; on the opt-out path (no unique key) they can, and that is an error, not a pick.
 */
export async function readByKey(
  ctx: RowContext,
  where: Row,
  key: UniqueKey,
  lock?: RowLock,
): Promise<Row | undefined> {
  const rows =
    (lock ? undefined : statementCache.readByKey(ctx, where, key)) ??
    ctx.rows.select(ctx, { where: matching(ctx.meta, where, key.keys), lock, limit: 2 });
  const found = await rows;
  if (found.length > 1)
    throw new MultipleRowsError(
      ctx.meta.displayName,
      Object.fromEntries(key.keys.map((k) => [k, where[k]])),
      found.length,
    );
  return found[0] && checkMatches(ctx.meta, where, key, found[0]);
}
