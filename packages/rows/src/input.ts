import { InvalidArgumentError } from '@racefree/transactions';
import { resolveKey } from './resolve-key.js';
import { type TableMeta, tableMeta, type UniqueKey } from './table-meta.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
/** Far beyond any real lookup; stops a hostile payload before it becomes a huge statement. */
const MAX_COLUMNS = 1000;

/**
 * An object that inherits nothing: a column named like an `Object.prototype` member
 * (`toString`, `valueOf`) reads `undefined` when absent — here, in `coveringKey`, and in
 * Drizzle's insert builder, which would otherwise take the inherited function for a value.
 */
function columnValues(): Record<string, unknown> {
  return Object.create(null) as Record<string, unknown>;
}

/**
 * Checks a `where` / `defaults` / `set` object against the table before any SQL is sent: a
 * plain object, known columns only, no prototype-polluting keys, no `undefined` values. Returns
 * a copy that inherits nothing (see `columnValues`), so a caller changing its object later
 * changes nothing here.
 */
export function checkValues(
  meta: TableMeta,
  values: unknown,
  what: string,
  options: { allowEmpty?: boolean } = {},
): Record<string, unknown> {
  if (values === null || typeof values !== 'object' || Array.isArray(values))
    throw new InvalidArgumentError(
      `${what} must be an object of column values for ${meta.displayName}`,
    );
  const proto = Object.getPrototypeOf(values);
  if (proto !== Object.prototype && proto !== null)
    throw new InvalidArgumentError(
      `${what} must be a plain object, not an instance of ${proto?.constructor?.name ?? 'a class'}`,
    );
  if (Object.getOwnPropertySymbols(values).length > 0)
    throw new InvalidArgumentError(`${what} has a symbol key; use column names`);
  const keys = Object.getOwnPropertyNames(values);
  if (keys.length > MAX_COLUMNS)
    throw new InvalidArgumentError(
      `${what} has ${keys.length} keys; ${meta.displayName} has ${meta.columns.size} columns`,
    );
  const copy = columnValues();
  for (const key of keys) {
    if (FORBIDDEN.has(key))
      throw new InvalidArgumentError(`${what} has the forbidden key ${JSON.stringify(key)}`);
    if (!meta.columns.has(key))
      throw new InvalidArgumentError(
        `${what} names ${JSON.stringify(key)}, which is not a column of ${meta.displayName} (columns: ${[...meta.columns.keys()].join(', ')})`,
      );
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined)
      throw new InvalidArgumentError(
        `${what}.${key} is undefined; leave the key out or pass null explicitly`,
      );
    copy[key] = value;
  }
  if (!options.allowEmpty && keys.length === 0)
    throw new InvalidArgumentError(`${what} is empty: it must name at least one column`);
  return copy;
}

/**
 * Refuses an options argument that is not an object, or names an option `operation` does not
 * take (a typo must not silently do nothing), or gives a flag that is not a boolean.
 */
export function checkOptions(
  options: unknown,
  operation: string,
  known: readonly string[],
  flags: readonly string[] = [],
): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new InvalidArgumentError(`${operation} needs an options object`);
  const given = options as Record<string, unknown>;
  const unknown = Object.keys(given).filter((key) => !known.includes(key));
  if (unknown.length > 0)
    throw new InvalidArgumentError(
      `${operation} has no option ${unknown.map((key) => JSON.stringify(key)).join(', ')}; it takes ${known.join(', ')}`,
    );
  for (const flag of flags)
    if (given[flag] !== undefined && typeof given[flag] !== 'boolean')
      throw new InvalidArgumentError(
        `${operation}: ${flag} must be true or false, got ${JSON.stringify(given[flag])}`,
      );
  return given;
}

/** A find-or-create call's checked input: the table, its `where`, and the unique key it runs on. */
export interface Lookup {
  meta: TableMeta;
  where: Record<string, unknown>;
  key: UniqueKey;
}

/**
 * Checks what every find-or-create helper shares, before any SQL: a Drizzle table, its options
 * (only `known` ones), a `where` of its columns, and a unique key covering `where` (unless
 * opted out with `allowWithoutUniqueKey`).
 */
export function checkLookup(
  table: unknown,
  options: unknown,
  operation: string,
  known: readonly string[],
  flags: readonly string[] = [],
): Lookup {
  const meta = tableMeta(table);
  const given = checkOptions(options, operation, known, ['allowWithoutUniqueKey', ...flags]);
  const where = checkValues(meta, given.where, 'where');
  return { meta, where, key: resolveKey(meta, where, given.allowWithoutUniqueKey === true) };
}

/**
 * The values a created row gets, as a function an insert calls: `defaults` (resolved once, and
 * only when an insert is tried — a function may be expensive or have effects), then `base`,
 * which wins. An object `defaults` is checked at once, before any SQL; a function's result when
 * it is called.
 */
export function createValues(
  meta: TableMeta,
  base: Record<string, unknown>,
  defaults: unknown,
  what = 'defaults',
): () => Promise<Record<string, unknown>> {
  if (defaults !== undefined && typeof defaults !== 'function')
    checkValues(meta, defaults, what, { allowEmpty: true });
  let resolved: Promise<Record<string, unknown>> | undefined;
  return () => {
    resolved ??= (async () => {
      const given =
        typeof defaults === 'function' ? await (defaults as () => unknown)() : (defaults ?? {});
      return Object.assign(checkValues(meta, given, what, { allowEmpty: true }), base);
    })();
    return resolved;
  };
}
