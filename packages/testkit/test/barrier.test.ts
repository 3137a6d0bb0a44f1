import { expect, it } from 'vitest';
import { Barrier, race } from '../src/index.js';

it('releases no caller before every caller has arrived', async () => {
  let arrived = 0;
  const seenAtRelease: number[] = [];
  const barrier = new Barrier(50);
  await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      // Stagger arrivals across event-loop turns: the barrier, not timing, must hold them.
      for (let turn = 0; turn < i % 7; turn++)
        await new Promise((resolve) => setImmediate(resolve));
      arrived += 1;
      await barrier.wait();
      seenAtRelease.push(arrived);
    }),
  );
  expect(seenAtRelease).toEqual(Array(50).fill(50));
});

it('race collects every result and every error, in caller order', async () => {
  const outcome = await race(10, async (caller) => {
    if (caller % 3 === 0) throw new Error(`caller ${caller}`);
    return caller;
  });
  expect(outcome.results).toEqual([1, 2, 4, 5, 7, 8]);
  expect(outcome.errors.map((e) => (e as Error).message)).toEqual([
    'caller 0',
    'caller 3',
    'caller 6',
    'caller 9',
  ]);
});

it('refuses a barrier for nobody and one passed by too many callers', async () => {
  expect(() => new Barrier(0)).toThrow(/at least one/);
  const barrier = new Barrier(1);
  await barrier.wait();
  await expect(barrier.wait()).rejects.toThrow(/reached by 2/);
});
