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

  it('re-runs an attempt whose promise rejected with a transient error, outside a transaction', async () => {
    let calls = 0;
    const run = () => {
      calls += 1;
      return calls < 3
        ? Promise.reject(new SnapshotConflictError(`attempt ${calls} lost`))
        : Promise.resolve(`attempt ${calls}`);
    };
    await expect(retryOutsideTransaction(context(false), run)).resolves.toBe('attempt 3');
    expect(calls).toBe(3);
  });
});
