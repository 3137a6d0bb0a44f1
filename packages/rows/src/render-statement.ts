import { type Database, type RenderedQuery, renderQuery } from '@racefree/transactions';
import { type Column, is, Param, Placeholder, SQL, sql } from 'drizzle-orm';
import type { TableMeta, UniqueKey } from './table-meta.js';

/**
 * Stands for the value named `name` (in the values a statement runs with), sent as a parameter
 * encoded by `column` — what `sql.param(value, column)` would send.
 */
export type ParamOf = (name: string, column: Column) => Param;

/** A statement's text, and where each of its parameters comes from. */
interface Template {
  sql: string;
  slots: { name: string; column: Column }[];
}

/** Shapes kept per table: far beyond what one application's calls produce, yet bounded. */
export const MAX_SHAPES_PER_TABLE = 256;
const templates = new WeakMap<TableMeta, Map<string, Template | undefined>>();

/**
 * Renders the statement `build` describes for `values`: its text once per table and `shape`,
 * its parameters on every call. `shape` must name everything `build` reads besides the values
 * it passes through `param` (which columns, which are null, the lock clause…): two calls with
 * the same shape must produce the same text. Drizzle's SQL builder then runs once per shape
 * rather than per call, which was the largest client cost of a one-statement get-or-create.
 *
 * A column type whose driver value is itself SQL (custom types) cannot be a plain parameter:
 * such a call is rendered in full, as Drizzle would, and nothing is lost but the speed-up.
 */
export function renderStatement(
  db: Database,
  meta: TableMeta,
  shape: string,
  values: Readonly<Record<string, unknown>>,
  build: (param: ParamOf) => SQL,
): RenderedQuery {
  let shapes = templates.get(meta);
  if (!shapes) templates.set(meta, (shapes = new Map()));
  let template = shapes.get(shape);
  if (template === undefined && !shapes.has(shape)) {
    template = compile(db, build);
    if (shapes.size < MAX_SHAPES_PER_TABLE) shapes.set(shape, template);
  }
  if (template) {
    const params = new Array<unknown>(template.slots.length);
    for (let i = 0; i < template.slots.length; i++) {
      const { name, column } = template.slots[i] as Template['slots'][number];
      const value = values[name];
      const driverValue =
        value === null || value === undefined ? null : column.mapToDriverValue(value);
      if (driverValue !== null && typeof driverValue === 'object' && is(driverValue, SQL))
        return renderQuery(db, build(paramsFrom(values)));
      params[i] = driverValue;
    }
    return { sql: template.sql, params };
  }
  return renderQuery(db, build(paramsFrom(values)));
}

/** `build` rendered with placeholders; `undefined` when a parameter is not one of ours. */
function compile(db: Database, build: (param: ParamOf) => SQL): Template | undefined {
  const rendered = renderQuery(
    db,
    build((name, column) => sql.param(sql.placeholder(name), column)),
  );
  const slots: Template['slots'] = [];
  for (const param of rendered.params) {
    if (!is(param, Param) || !is(param.value, Placeholder)) return undefined;
    slots.push({ name: param.value.name, column: param.encoder as Column });
  }
  return { sql: rendered.sql, slots };
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
