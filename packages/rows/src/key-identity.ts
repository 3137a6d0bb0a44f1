import type { TableMeta, UniqueKey } from './table-meta.js';

/** A key's values as the server compares them: through the column's driver mapping. */
function driverValues(meta: TableMeta, keys: readonly string[], row: Record<string, unknown>) {
  return keys.map((k) => {
    const value = row[k];
    const mapped = meta.columns.get(k)?.mapToDriverValue(value) ?? value;
    if (mapped instanceof Date) return mapped.toISOString();
    if (typeof mapped === 'bigint') return mapped.toString();
    return mapped;
  });
}

/**
 * A string that is equal for two rows exactly when their `keys` hold equal values (as the
 * server would compare them): how rows found or created are matched back to what was asked for.
 */
export function keyIdentity(
  meta: TableMeta,
  keys: readonly string[],
  row: Record<string, unknown>,
): string {
  return JSON.stringify(driverValues(meta, keys, row).map((value) => String(value)));
}

/**
 * A total order on `key`'s values, the same in every process: numbers by value, anything else
 * by its text. Callers that insert rows in this order wait for each other instead of
 * deadlocking (any order shared by every caller would do; it need not be the index's).
 */
export function compareKeys(
  meta: TableMeta,
  key: UniqueKey,
): (a: Record<string, unknown>, b: Record<string, unknown>) => number {
  return (a, b) => {
    const left = driverValues(meta, key.keys, a);
    const right = driverValues(meta, key.keys, b);
    for (let i = 0; i < left.length; i++) {
      const x = left[i];
      const y = right[i];
      if (typeof x === 'number' && typeof y === 'number') {
        if (x !== y) return x < y ? -1 : 1;
        continue;
      }
      const sx = String(x);
      const sy = String(y);
      if (sx !== sy) return sx < sy ? -1 : 1;
    }
    return 0;
  };
}
