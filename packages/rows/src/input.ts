import { InvalidArgumentError } from '@racefree/transactions';
import { resolveKey } from './resolve-key.js';
import { type TableMeta, tableMeta, type UniqueKey } from './table-meta.js';

/**
 * The checked copies' constructor. Its prototype is an empty null-prototype object, so a copy
 * inherits nothing (no `toString`, no `constructor`), like `Object.create(null)`; unlike that,
 * the copy keeps V8's fast properties, where an `Object.create(null)` object is a dictionary,
 * slower to build and to read on every call.
 */
const ColumnValues = function ColumnValues() {} as unknown as new () => Record<string, unknown>;
ColumnValues.prototype = Object.create(null);
const CHECK_ONLY = { allowEmpty: true, checkOnly: true } as const;
const ALLOW_EMPTY = { allowEmpty: true } as const;
/** What a check-only call returns: it copies nothing. */
const EMPTY: Record<string, unknown> = Object.freeze(new ColumnValues());
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
/** Far beyond any real lookup; stops a hostile payload before it becomes a huge statement. */
const MAX_COLUMNS = 1000;

/**
 * Checks a `where` / `defaults` / `set` object against the table before any SQL is sent:
 * a plain object, known columns only, no prototype-polluting keys, no `undefined` values.
 * Returns a copy that inherits nothing (see `ColumnValues`), so later reads, `in` checks and
 * spreads see only the caller's columns (an empty object with `checkOnly`).
 */
export function checkValues(
  meta: TableMeta,
  values: unknown,
  what: string,
  options: { allowEmpty?: boolean; checkOnly?: boolean } = {},
): Record<string, unknown> {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new InvalidArgumentError(
      `${what} must be an object of column values for ${meta.displayName}`,
    );
  }
  const proto = Object.getPrototypeOf(values);
  // Our own checked copies (`ColumnValues`) pass too: helpers hand them on to each other.
  if (proto !== Object.prototype && proto !== null && proto !== ColumnValues.prototype) {
    throw new InvalidArgumentError(
      `${what} must be a plain object, not an instance of ${proto?.constructor?.name ?? 'a class'}`,
    );
  }
  // Two cheap reads instead of `Reflect.ownKeys`, which took most of this check's time.
  if (Object.getOwnPropertySymbols(values).length > 0)
    throw new InvalidArgumentError(`${what} has a symbol key; use column names`);
  const keys = Object.getOwnPropertyNames(values);
  if (keys.length > MAX_COLUMNS)
    throw new InvalidArgumentError(
      `${what} has ${keys.length} keys; ${meta.displayName} has ${meta.columns.size} columns`,
    );
  const copy = options.checkOnly ? undefined : new ColumnValues();
  for (const key of keys) {
    if (FORBIDDEN.has(key))
      throw new InvalidArgumentError(`${what} has the forbidden key ${JSON.stringify(key)}`);
    if (!meta.columns.has(key)) {
      throw new InvalidArgumentError(
        `${what} names ${JSON.stringify(key)}, which is not a column of ${meta.displayName} (columns: ${[...meta.columns.keys()].join(', ')})`,
      );
    }
    const value = (values as Record<string, unknown>)[key];
    if (value === undefined) {
      throw new InvalidArgumentError(
        `${what}.${key} is undefined; leave the key out or pass null explicitly`,
      );
    }
    if (copy) copy[key] = value;
  }
  if (!options.allowEmpty && keys.length === 0)
    throw new InvalidArgumentError(`${what} is empty: it must name at least one column`);
  return copy ?? EMPTY;
}

/** A find-or-create call's checked input: the table, its `where`, and the unique key it runs on. */
export interface Lookup {
  meta: TableMeta;
  where: Record<string, unknown>;
  key: UniqueKey;
}

/**
 * Checks the input every find-or-create helper shares, before any SQL: a Drizzle table, a
 * `where` of its columns, and a unique key covering `where` (unless opted out).
 */
export function checkLookup(
  table: unknown,
  options: { where?: unknown; allowWithoutUniqueKey?: boolean | undefined } | undefined,
): Lookup {
  const meta = tableMeta(table);
  const where = checkValues(meta, options?.where, 'where');
  return { meta, where, key: resolveKey(meta, where, options?.allowWithoutUniqueKey) };
}

/**
 * The values a created row gets: `defaults` (resolved once, and only when an insert is tried —
 * the function may be expensive or have effects), then `base` (which wins). An object
 * `defaults` is checked at once, before any SQL; a function's result when it is called.
 * The values come back as they are for an object `defaults` (or none), and as a promise for a
 * function: a create needs no promise step before its INSERT. A bad result throws or rejects
 * likewise; every call after the first returns the same.
 */
export function createValues(
  meta: TableMeta,
  base: Record<string, unknown>,
  defaults: unknown,
  what = 'defaults',
): () => CreateValues {
  if (defaults !== undefined && typeof defaults !== 'function')
    checkValues(meta, defaults, what, CHECK_ONLY);
  let resolved: CreateValues | undefined;
  let failure: { error: unknown } | undefined;
  // `defaults`' columns, then `base`'s (which win), in a copy of our own that inherits nothing.
  const merged = (given: unknown) => {
    const values = checkValues(meta, given, what, ALLOW_EMPTY);
    for (const key of Object.keys(base)) values[key] = base[key];
    return values;
  };
  return () => {
    if (failure) throw failure.error;
    if (resolved) return resolved;
    if (typeof defaults === 'function') {
      resolved = (async () => merged(await (defaults as () => unknown)()))();
    } else {
      try {
        resolved = merged(defaults ?? EMPTY);
      } catch (error) {
        failure = { error };
        throw error;
      }
    }
    return resolved;
  };
}

/** A create's values: at once, or once a `defaults` function has answered. */
export type CreateValues = Record<string, unknown> | Promise<Record<string, unknown>>;
