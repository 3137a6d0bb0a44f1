import { SnapshotConflictError } from '@racefree/transactions';
import { describe, expect, it } from 'vitest';
import type { RowContext } from '../src/context.js';
import { retryOutsideTransaction } from '../src/retry-outside-transaction.js';

// `inTransaction` decides what retryOutsideTransaction does (and `root` whose connection turn
// it takes: a plain object stands for a pooled database, which has none).
const context = (inTransaction: boolean) =>
  ({ inTransaction, root: { $client: undefined } }) as unknown as RowContext;

describe('retryOutsideTransaction', () => {
  it('re-runs a transient failure outside a transaction only, and never another error', async () => {
    let calls = 0;
    const run = async () => {
      calls += 1;
      if (calls < 3) throw new SnapshotConflictError(`attempt ${calls} lost`);
      return `attempt ${calls}`;
    };
    await expect(retryOutsideTransaction(context(false), run)).resolves.toBe('attempt 3');
    expect(calls).toBe(3);

    calls = 0;
    await expect(retryOutsideTransaction(context(true), run)).rejects.toBeInstanceOf(
      SnapshotConflictError,
    );
    expect(calls).toBe(1);

    const bad = new Error('bad input');
    calls = 0;
    await expect(
      retryOutsideTransaction(context(false), async () => {
        calls += 1;
        throw bad;
      }),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);
  });

  it('gives up after five attempts, with the last error', async () => {
    let calls = 0;
    const error = await retryOutsideTransaction(context(false), async () => {
      calls += 1;
      throw new SnapshotConflictError(`attempt ${calls} lost`);
    }).catch((e: unknown) => e);
    expect(calls).toBe(5);
    expect((error as Error).message).toBe('attempt 5 lost');
  });
});
