import { SnapshotConflictError } from '@racefree/transactions';
import { describe, expect, it } from 'vitest';
import type { RowContext } from '../src/context.js';
import { retryOutsideTransaction } from '../src/retry-outside-transaction.js';

// Only `inTransaction` decides what retryOutsideTransaction does.
const context = (inTransaction: boolean) => ({ inTransaction }) as RowContext;

describe('retryOutsideTransaction', () => {
  it('turns a synchronous throw of its attempt into a rejection, in and out of a transaction', async () => {
    for (const inTransaction of [true, false]) {
      const bad = new Error('bad input');
      let calls = 0;
      let result: Promise<unknown> | undefined;
      expect(() => {
        result = retryOutsideTransaction(context(inTransaction), () => {
          calls += 1;
          throw bad;
        });
      }).not.toThrow();
      await expect(result).rejects.toBe(bad);
      expect(calls).toBe(1); // not transient: never re-run
    }
  });

  it('re-runs an attempt that threw a transient error synchronously, outside a transaction only', async () => {
    let calls = 0;
    const run = () => {
      calls += 1;
      if (calls === 1) throw new SnapshotConflictError('the first attempt lost');
      return Promise.resolve('second attempt');
    };
    await expect(retryOutsideTransaction(context(false), run)).resolves.toBe('second attempt');
    expect(calls).toBe(2);

    calls = 0;
    await expect(retryOutsideTransaction(context(true), run)).rejects.toBeInstanceOf(
      SnapshotConflictError,
    );
    expect(calls).toBe(1);
  });

  it('hands the first attempt a retry outside a transaction only, and re-runs without one', async () => {
    const given: boolean[] = [];
    let calls = 0;
    const attempt = (retry: ((error: unknown) => Promise<string>) | undefined) => {
      given.push(retry !== undefined);
      calls += 1;
      if (calls >= 3) return Promise.resolve(`attempt ${calls}`);
      const failed = Promise.reject(new SnapshotConflictError(`attempt ${calls} lost`));
      // The attempt hooks the retry on where its failure arises, as a found getOrCreate does.
      return retry ? failed.then(undefined, retry) : failed;
    };
    await expect(retryOutsideTransaction(context(false), attempt)).resolves.toBe('attempt 3');
    expect(given).toEqual([true, false, false]);

    given.length = 0;
    calls = 0;
    await expect(retryOutsideTransaction(context(true), attempt)).rejects.toBeInstanceOf(
      SnapshotConflictError,
    );
    expect(given).toEqual([false]);
  });
});
