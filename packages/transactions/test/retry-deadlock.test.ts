import { Barrier, describeDialects } from '@racefree/testkit';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import {
  atomic,
  classifyError,
  isDeadlock,
  isTransient,
  onCommit,
  onRollback,
  RetryExhaustedError,
} from '../src/index.js';
import { balances, resetAccounts, transfer } from './support/helpers.js';

// Two transfers lock accounts 1 and 2 in opposite order; a barrier between their two steps
// guarantees each holds its first lock when it asks for the second: a real deadlock, every run.
describeDialects('retries on real deadlocks', (t) => {
  const db = () => t.connection.db;

  beforeAll(async () => {
    await resetAccounts(t.connection);
  });
  beforeEach(async () => {
    await resetAccounts(t.connection);
  });

  it('without retries exactly one of two opposite-order transfers dies of a deadlock', async () => {
    const barrier = new Barrier(2);
    const settled = await Promise.allSettled([
      atomic(db(), (tx) => transfer(tx, 1, 2, 10, () => barrier.wait())),
      atomic(db(), (tx) => transfer(tx, 2, 1, 5, () => barrier.wait())),
    ]);
    const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(failed).toHaveLength(1);
    const [error] = failed;
    expect(error).not.toBeInstanceOf(RetryExhaustedError);
    expect(isDeadlock(error)).toBe(true);
    expect(isTransient(error)).toBe(true);
    expect(classifyError(error)).toEqual({ kind: 'deadlock', retryable: true });
    // Only the survivor's transfer is in the data; the victim's first update was rolled back.
    const survivorWasFirst = settled[0]?.status === 'fulfilled';
    expect(await balances(t.connection)).toEqual(
      survivorWasFirst ? { 1: 90, 2: 110 } : { 1: 105, 2: 95 },
    );
  });

  it('with retries both transfers commit; the failed attempt’s hooks are discarded and its onRollback ran', async () => {
    const barrier = new Barrier(2);
    const attempts = { a: 0, b: 0 };
    const committed: string[] = [];
    const rolledBack: string[] = [];
    const run = (name: 'a' | 'b', from: number, to: number, amount: number) =>
      atomic(
        db(),
        async (tx) => {
          attempts[name] += 1;
          const attempt = attempts[name];
          await onCommit(() => committed.push(`${name}#${attempt}`));
          await onRollback(() => rolledBack.push(`${name}#${attempt}`));
          // Only the first attempts meet at the barrier; a retry just queues behind the winner.
          await transfer(tx, from, to, amount, () =>
            attempt === 1 ? barrier.wait() : Promise.resolve(),
          );
          return attempt;
        },
        { retries: 3 },
      );
    const [a, b] = await Promise.all([run('a', 1, 2, 10), run('b', 2, 1, 5)]);

    // The invariant: both transfers applied exactly once, no money created or lost.
    expect(await balances(t.connection)).toEqual({ 1: 95, 2: 105 });
    // Exactly one deadlock victim, retried exactly once.
    expect(attempts.a + attempts.b).toBe(3);
    expect([a, b].sort()).toEqual([1, 2]);
    const victim = attempts.a === 2 ? 'a' : 'b';
    const survivor = victim === 'a' ? 'b' : 'a';
    // One commit hook per transfer, from its committed attempt only; each ran once.
    expect(committed.sort()).toEqual([`${survivor}#1`, `${victim}#2`].sort());
    expect(rolledBack).toEqual([`${victim}#1`]);
  });
});
