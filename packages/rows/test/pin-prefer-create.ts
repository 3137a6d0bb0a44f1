import { conflictRate } from '../src/conflict-rate.js';
import { type AnyTable, coveringKey, tableMeta, type UniqueKey } from '../src/table-meta.js';

/** The two statements `prefer: 'create'` picks between on PostgreSQL (MySQL has only the first). */
export const PREFER_CREATE_STATEMENTS = [
  { statement: 'bare insert', combined: false },
  { statement: 'insert-or-select', combined: true },
] as const;

/**
 * Holds `prefer: 'create'`'s choice for the unique key of `table` that covers `where`: the
 * combined insert-or-select statement or the bare INSERT. `undefined` forgets the history and
 * lets it learn afresh.
 */
export function pinPreferCreate(
  table: AnyTable,
  where: Record<string, unknown>,
  combined: boolean | undefined,
): void {
  conflictRate.reset(coveringKey(tableMeta(table), where) as UniqueKey, combined);
}
