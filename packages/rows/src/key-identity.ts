import type { TableMeta, UniqueKey } from './table-meta.js';

/**
 * A key's values as the server compares them: through the column's driver mapping, and a
 * PostgreSQL uuid in small letters (the server reads capitals as the same uuid, and answers in
 * small letters).
 */
function driverValues(meta: TableMeta, keys: readonly string[], row: Record<string, unknown>) {
  return keys.map((k) => {
    const value = row[k];
    const column = meta.columns.get(k);
    const mapped = column?.mapToDriverValue(value) ?? value;
    if (mapped instanceof Date) return mapped.toISOString();
    if (typeof mapped === 'bigint') return mapped.toString();
    if (typeof mapped === 'string' && column?.columnType === 'PgUUID') return mapped.toLowerCase();
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
 * `keyIdentity` with text in small letters and without trailing spaces: what MySQL's default
 * collations ignore.
 */
function looseIdentity(
  meta: TableMeta,
  keys: readonly string[],
  row: Record<string, unknown>,
): string {
  return JSON.stringify(
    driverValues(meta, keys, row).map((value) => String(value).toLowerCase().trimEnd()),
  );
}

/**
 * `candidates` with those whose key loosely matches one of `rows` (small letters, no trailing
 * spaces) first. Only a guess at which key names a row the server returned in another spelling
 * — the server confirms it, key by key — so such a row is usually found in one read, not one
 * per key.
 */
export function likeliestFirst<C>(
  meta: TableMeta,
  keys: readonly string[],
  rows: Iterable<Record<string, unknown>>,
  candidates: readonly C[],
  keyOf: (candidate: C) => Record<string, unknown>,
): C[] {
  const likely = new Set([...rows].map((row) => looseIdentity(meta, keys, row)));
  const rank = (candidate: C) => (likely.has(looseIdentity(meta, keys, keyOf(candidate))) ? 0 : 1);
  return [...candidates].sort((a, b) => rank(a) - rank(b));
}

/**
 * A total order on `key`'s values, the same in every process: numbers by value, anything else
 * by its text. Callers that insert rows in this order wait for each other instead of
 * deadlocking (any order shared by every caller would do; it need not be the index's). Values
 * a collation holds equal but JavaScript does not (`'Sql'`, `'sql'`) sort apart: two callers
 * spelling one key differently can still meet in opposite orders.
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
