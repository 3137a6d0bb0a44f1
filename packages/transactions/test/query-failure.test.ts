import { DrizzleQueryError } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { queryFailure } from '../src/drivers/drizzle-session.js';

describe('queryFailure', () => {
  it("wraps a driver's error as Drizzle does, with the error as cause", () => {
    const driverError = new Error('relation "nope" does not exist');
    const failure = queryFailure('select 1 from nope', [1], driverError);
    expect(failure).toBeInstanceOf(DrizzleQueryError);
    expect(failure.cause).toBe(driverError);
    expect((failure as DrizzleQueryError).query).toBe('select 1 from nope');
    expect((failure as DrizzleQueryError).params).toEqual([1]);
  });

  it('keeps an error that already is a DrizzleQueryError, from this copy of drizzle-orm or another', () => {
    const ours = new DrizzleQueryError('select 1', [], new Error('cause'));
    expect(queryFailure('select 1', [], ours)).toBe(ours);
    // What a second copy of drizzle-orm (its CJS build) throws: same name and fields, another class.
    class OtherDrizzleQueryError extends Error {
      constructor(
        readonly query: string,
        readonly params: unknown[],
        cause: Error,
      ) {
        super(`Failed query: ${query}`, { cause });
      }
    }
    Object.defineProperty(OtherDrizzleQueryError, 'name', { value: 'DrizzleQueryError' });
    const theirs = new OtherDrizzleQueryError('select 1', [], new Error('cause'));
    expect(queryFailure('select 1', [], theirs)).toBe(theirs);
  });
});
