import { InvalidArgumentError } from '@racefree/transactions';
import { KeyMismatchError, NoUniqueKeyError } from './errors.js';
import { coveringKey, type TableMeta, type UniqueKey } from './table-meta.js';

/**
 * The key a get-or-create runs on: the unique key `where` covers, or — when the caller opted
 * out with `allowWithoutUniqueKey` — all of `where` (which may then duplicate under load).
 */
export function resolveKey(
  meta: TableMeta,
  where: Record<string, unknown>,
  allowWithoutUniqueKey: boolean | undefined,
): UniqueKey {
  const key = coveringKey(meta, where);
  if (key) return key;
  const whereKeys = Object.keys(where);
  if (!allowWithoutUniqueKey)
    throw new NoUniqueKeyError(
      meta.displayName,
      whereKeys,
      meta.uniqueKeys.map((k) => k.keys),
    );
  return {
    keys: whereKeys,
    columns: whereKeys.map((k) => meta.columns.get(k)) as UniqueKey['columns'],
    name: undefined,
    primary: false,
    unenforced: true,
  };
}

/** The names of `where` columns (outside the key) whose value differs on `row`; none: `undefined`. */
function mismatchedColumns(
  meta: TableMeta,
  where: Record<string, unknown>,
  key: UniqueKey,
  row: Record<string, unknown>,
): string[] | undefined {
  // Runs on every row a helper returns: nothing is allocated unless something differs.
  let mismatched: string[] | undefined;
  for (const k in where) {
    if (!Object.hasOwn(where, k) || key.keys.includes(k)) continue;
    if (!sameValue(meta, k, where[k], row[k])) (mismatched ??= []).push(k);
  }
  return mismatched;
}

/**
 * Returns `row` when its other `where` columns match — or those of `or`, a second shape the row
 * may rightly have; throws `KeyMismatchError` when the key is taken by another row.
 */
export function checkMatches(
  meta: TableMeta,
  where: Record<string, unknown>,
  key: UniqueKey,
  row: Record<string, unknown>,
  or?: Record<string, unknown>,
): Record<string, unknown> {
  const mismatched = mismatchedColumns(meta, where, key, row);
  if (mismatched && !(or && !mismatchedColumns(meta, or, key, row)))
    throw new KeyMismatchError(meta.displayName, key.keys, mismatched, row);
  return row;
}

/** Compares as the database would store them: through the column's driver mapping. */
function sameValue(meta: TableMeta, key: string, a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const column = meta.columns.get(key);
  const driver = (v: unknown) => {
    const mapped = column ? column.mapToDriverValue(v) : v;
    return mapped instanceof Date
      ? mapped.toISOString()
      : typeof mapped === 'object'
        ? JSON.stringify(mapped)
        : String(mapped);
  };
  return driver(a) === driver(b);
}

/** The primary key of the table, or a clear error for tables without one. */
export function requirePrimaryKey(meta: TableMeta, operation: string): UniqueKey {
  if (!meta.primaryKey) {
    throw new InvalidArgumentError(
      `${operation} needs a primary key on ${meta.displayName} to identify rows; the table has none`,
    );
  }
  return meta.primaryKey;
}
