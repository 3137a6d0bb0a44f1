import { and, type Column, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import type { TableMeta } from './table-meta.js';

function column(meta: TableMeta, key: string): Column {
  return meta.columns.get(key) as Column;
}

/** `a = … and b = …` over `keys` of `values`; a null compares with IS NULL. */
export function matching(
  meta: TableMeta,
  values: Record<string, unknown>,
  keys: readonly string[],
): SQL {
  const parts = keys.map((key) =>
    values[key] === null ? isNull(column(meta, key)) : eq(column(meta, key), values[key]),
  );
  return and(...parts) as SQL;
}

/** Rows whose `keys` equal those of one of `rows`: `pk in (…)`, or `(a = … and b = …) or …`. */
export function anyOf(
  meta: TableMeta,
  keys: readonly string[],
  rows: readonly Record<string, unknown>[],
): SQL {
  if (keys.length === 1) {
    const key = keys[0] as string;
    return inArray(
      column(meta, key),
      rows.map((row) => row[key]),
    );
  }
  return or(...rows.map((row) => matching(meta, row, keys))) as SQL;
}
