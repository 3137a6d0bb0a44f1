import { integer, pgTable, serial, text, unique } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { resolveKey } from '../src/resolve-key.js';
import { keyVariant, MAX_SHAPES_PER_TABLE, ShapeCache } from '../src/render-statement.js';
import { insertInput } from '../src/row-sql.js';
import { coveringKey, tableMeta } from '../src/table-meta.js';

// The shapes the hot paths keep must be exactly as specific as the text they stand for:
// one shape per column set, per key, per lock clause; never kept for a per-call key object
// or a null (IS NULL is another text).

const tags = pgTable(
  'tags',
  {
    id: serial('id').primaryKey(),
    name: text('name').notNull(),
    color: text('color'),
    weight: integer('weight'),
  },
  (t) => [unique('tags_name').on(t.name)],
);
const meta = tableMeta(tags);

describe('insertInput', () => {
  it('numbers each column set, and hands the same columns and shape to every insert of it', () => {
    const a = insertInput(meta, { name: 'a', color: 'red' });
    const b = insertInput(meta, { color: 'blue', name: 'b' });
    const c = insertInput(meta, { name: 'c' });
    expect(a.keys).toEqual(['name', 'color']);
    expect(a.shape).toBe('name,color');
    // Another order of the same columns is the same set: the statement lists table order.
    expect(b.columnSet).toBe(a.columnSet);
    expect(b.keys).toBe(a.keys);
    expect(b.values).toEqual({ color: 'blue', name: 'b' });
    expect(c.columnSet).not.toBe(a.columnSet);
    expect(c.keys).toEqual(['name']);
    expect(c.shape).toBe('name');
  });

  it('leaves tables too wide to number unnumbered, with their columns still right', () => {
    const columns: Record<string, ReturnType<typeof text>> = {};
    for (let i = 0; i < 40; i++) columns[`c${i}`] = text(`c${i}`);
    const wide = tableMeta(pgTable('wide', { id: serial('id').primaryKey(), ...columns }));
    const input = insertInput(wide, { c39: 'z', c0: 'a' });
    expect(input.columnSet).toBeUndefined();
    expect(input.keys).toEqual(['c0', 'c39']);
    expect(input.shape).toBe('c0,c39');
  });
});

describe('keyVariant', () => {
  const key = coveringKey(meta, { name: 'x' });
  it('keys an enforced key without nulls by the variant', () => {
    expect(key?.name).toBe('tags_name');
    expect(keyVariant({ name: 'x' }, key as never, 3)).toBe(3);
  });
  it('keeps nothing for a null value or a key made for this call', () => {
    expect(keyVariant({ name: null }, key as never, 3)).toBeUndefined();
    const loose = resolveKey(meta, { color: 'red' }, true);
    expect(loose.unenforced).toBe(true);
    expect(keyVariant({ color: 'red' }, loose, 3)).toBeUndefined();
  });
});

describe('ShapeCache', () => {
  it('builds a shape once per owner and variant, and every time without a variant', () => {
    const cache = new ShapeCache();
    const owner = {};
    let builds = 0;
    const build = () => `shape-${++builds}`;
    expect(cache.of(owner, 'x', build)).toBe('shape-1');
    expect(cache.of(owner, 'x', build)).toBe('shape-1');
    expect(cache.of(owner, 'y', build)).toBe('shape-2');
    expect(cache.of({}, 'x', build)).toBe('shape-3');
    expect(cache.of(owner, undefined, build)).toBe('shape-4');
    expect(cache.of(owner, undefined, build)).toBe('shape-5');
    expect(builds).toBe(5);
  });

  it('keeps at most MAX_SHAPES_PER_TABLE variants per owner, and still answers past it', () => {
    const cache = new ShapeCache();
    const owner = {};
    for (let i = 0; i < MAX_SHAPES_PER_TABLE + 10; i++) cache.of(owner, i, () => `s${i}`);
    let builds = 0;
    expect(cache.of(owner, 0, () => `again${++builds}`)).toBe('s0');
    expect(cache.of(owner, MAX_SHAPES_PER_TABLE + 5, () => `again${++builds}`)).toBe('again1');
    expect(builds).toBe(1);
  });
});
