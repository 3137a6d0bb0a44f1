import type { Database } from '@racefree/transactions';
import { type Column, type Param, type SQL, sql } from 'drizzle-orm';
import type { TableMeta, UniqueKey } from './table-meta.js';

/**
 * Stands for the value named `name` (in the values a statement runs with), sent as a parameter
 * encoded by `column` — what `sql.param(value, column)` would send.
 */
export type ParamOf = (name: string, column: Column) => Param;

/** Shapes kept per table: far beyond what one application's calls produce, yet bounded. */
export const MAX_SHAPES_PER_TABLE = 256;

/**
 * The statement `build` describes for `values`, as a Drizzle `sql` template run through
 * Drizzle's `db.execute` (a bridge onto the driver adapters until the helpers are rewritten on
 * Drizzle's query builders).
 */
export function renderStatement(
  _db: Database,
  _meta: TableMeta,
  _shape: string,
  values: Readonly<Record<string, unknown>>,
  build: (param: ParamOf) => SQL,
): SQL {
  return build(paramsFrom(values));
}

/** A `ParamOf` that sends `values[name]` itself (a statement rendered for this one call). */
export function paramsFrom(values: Readonly<Record<string, unknown>>): ParamOf {
  return (name, column) => sql.param(values[name] ?? null, column);
}

/**
 * A shape fragment for `keys` of `values`: the keys in order, each marked when its value is
 * null (a null compares with IS NULL, which changes the text).
 */
export function shapeOf(
  values: Readonly<Record<string, unknown>>,
  keys: readonly string[],
): string {
  let shape = '';
  for (const key of keys) shape += values[key] === null ? `${key}=null,` : `${key},`;
  return shape;
}

/**
 * `variant`, for a `ShapeCache` owned by `key`; `undefined` (build the shape each call) when
 * the key object is made per call (no unique key: `allowWithoutUniqueKey`) or one of its
 * values is null (IS NULL is another text).
 */
export function keyVariant(
  values: Readonly<Record<string, unknown>>,
  key: UniqueKey,
  variant: string | number | undefined,
): string | number | undefined {
  if (key.unenforced) return undefined;
  for (const k of key.keys) if (values[k] === null) return undefined;
  return variant;
}

/**
 * Shape strings kept per owner object (a unique key, a table) and variant (a lock clause, a
 * column set), for the statements every helper call sends: the same string each call, so the
 * call neither builds a new one nor hashes it for `renderStatement`'s lookup (measured: about a
 * fifth of a found getOrCreate's own CPU). Only for shapes the owner and variant fully decide.
 */
export class ShapeCache {
  readonly #shapes = new WeakMap<object, Map<string | number, string>>();

  /**
   * The shape for `owner` and `variant`, built by `build` the first time; built every time
   * when `variant` is `undefined` (a shape this cache cannot key).
   */
  of(owner: object, variant: string | number | undefined, build: () => string): string {
    if (variant === undefined) return build();
    let variants = this.#shapes.get(owner);
    if (!variants) this.#shapes.set(owner, (variants = new Map()));
    let shape = variants.get(variant);
    if (shape === undefined) {
      shape = build();
      // Bounded like the templates: variants come from code (lock clauses, column sets).
      if (variants.size < MAX_SHAPES_PER_TABLE) variants.set(variant, shape);
    }
    return shape;
  }
}
