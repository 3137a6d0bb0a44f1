import { pgTable, serial, text, unique, varchar } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import { checkValues, createValues } from '../src/input.js';
import { coveringKey, mapRow, tableMeta } from '../src/table-meta.js';

const people = pgTable(
  'people',
  {
    id: serial('id').primaryKey(),
    email: varchar('email', { length: 100 }).notNull().unique(),
    org: text('org').notNull(),
    handle: text('handle').notNull(),
    toString: text('to_string'),
    v: text('valueOf'),
  },
  (t) => [unique('people_org_handle').on(t.org, t.handle)],
);
const meta = tableMeta(people);

describe('checkValues', () => {
  it("copies only the caller's columns, and the copy inherits nothing", () => {
    const copy = checkValues(meta, { email: 'a@b.c' }, 'where');
    expect(Object.keys(copy)).toEqual(['email']);
    // A column named like an Object.prototype member must not be found when absent.
    expect('toString' in copy).toBe(false);
    expect(copy.toString).toBeUndefined();
    expect('constructor' in copy).toBe(false);
    expect({ ...copy }).toEqual({ email: 'a@b.c' });
  });

  it('accepts its own copy again (helpers hand checked values on)', () => {
    const copy = checkValues(meta, { email: 'a@b.c' }, 'where');
    expect({ ...checkValues(meta, copy, 'where') }).toEqual({ email: 'a@b.c' });
  });

  it('keeps the value read at check time, whatever the caller does later', () => {
    const where = { email: 'a@b.c' };
    const copy = checkValues(meta, where, 'where');
    where.email = 'changed';
    expect(copy.email).toBe('a@b.c');
  });

  it('refuses symbol keys and non-enumerable keys that are not columns', () => {
    expect(() => checkValues(meta, { email: 'x', [Symbol('s')]: 1 }, 'where')).toThrow(/symbol/);
    const hidden = Object.defineProperty({ email: 'x' }, 'nope', { value: 1, enumerable: false });
    expect(() => checkValues(meta, hidden, 'where')).toThrow(/nope/);
  });
});

describe('coveringKey', () => {
  it('picks the narrowest covered key, the primary key first on ties', () => {
    expect(coveringKey(meta, { id: 1, email: 'a@b.c' })?.keys).toEqual(['id']);
    expect(coveringKey(meta, { email: 'a@b.c', org: 'o', handle: 'h' })?.keys).toEqual(['email']);
    expect(coveringKey(meta, { org: 'o', handle: 'h' })?.keys).toEqual(['org', 'handle']);
  });

  it('does not count a null or missing column as covered', () => {
    expect(coveringKey(meta, { org: 'o', handle: null })).toBeUndefined();
    expect(coveringKey(meta, { org: 'o' })).toBeUndefined();
    expect(coveringKey(meta, { toString: 'x' })).toBeUndefined();
  });
});

describe('mapRow', () => {
  it('never reads a column the row lacks from its prototype', () => {
    // `toString` is the property key of a column: a row without it must not map Object.prototype's.
    expect(mapRow(meta, { id: 1 })).toEqual({ id: 1 });
  });

  it('maps the columns selected as their property keys and skips those the row lacks', () => {
    expect(mapRow(meta, { id: 1, email: 'a@b.c', toString: null })).toEqual({
      id: 1,
      email: 'a@b.c',
      toString: null,
    });
  });
});

describe('createValues', () => {
  it('merges defaults then where, where winning, into a copy that inherits nothing', async () => {
    const where = checkValues(meta, { email: 'a@b.c' }, 'where');
    const values = await createValues(meta, where, { email: 'ignored', org: 'o' })();
    expect({ ...values }).toEqual({ email: 'a@b.c', org: 'o' });
    expect('toString' in values).toBe(false);
  });

  it('refuses bad object defaults at once, and a bad function result when it is called', async () => {
    const where = checkValues(meta, { email: 'a@b.c' }, 'where');
    expect(() => createValues(meta, where, { nope: 1 })).toThrow(/nope/);
    let calls = 0;
    const lazy = createValues(meta, where, () => {
      calls += 1;
      return { nope: 1 };
    });
    expect(calls).toBe(0);
    await expect(lazy()).rejects.toThrow(/nope/);
    await expect(lazy()).rejects.toThrow(/nope/);
    expect(calls).toBe(1);
  });

  it('without defaults, creates from where alone', async () => {
    const where = checkValues(meta, { email: 'a@b.c' }, 'where');
    expect({ ...(await createValues(meta, where, undefined)()) }).toEqual({ email: 'a@b.c' });
  });
});
