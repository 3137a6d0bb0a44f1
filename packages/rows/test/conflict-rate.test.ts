import { describe, expect, it } from 'vitest';
import { conflictRate, type KeyOutcome } from '../src/conflict-rate.js';
import type { UniqueKey } from '../src/table-meta.js';

const newKey = (): UniqueKey => ({ keys: ['name'], columns: [], name: undefined, primary: false });

/** Notes what the statement `conflictRate` picks would report for a call that meets `met`. */
function call(key: UniqueKey, met: 'new' | 'existing' | 'racing'): boolean {
  const combined = conflictRate.common(key);
  const outcome: KeyOutcome =
    met === 'new' ? 'created' : !combined ? 'taken' : met === 'existing' ? 'existed' : 'raced';
  conflictRate.note(key, outcome);
  return combined;
}

describe('conflictRate', () => {
  it('starts with the bare insert and switches once about a fifth of the calls found their row', () => {
    const key = newKey();
    expect(conflictRate.common(key)).toBe(false);
    for (let i = 0; i < 7; i++) conflictRate.note(key, 'taken');
    expect(conflictRate.common(key)).toBe(false);
    conflictRate.note(key, 'taken');
    expect(conflictRate.common(key)).toBe(true);
  });

  it('keeps its choice while the share hovers between the two thresholds', () => {
    const key = newKey();
    for (let i = 0; i < 8; i++) conflictRate.note(key, 'taken');
    expect(conflictRate.common(key)).toBe(true);
    // One existing row in seven calls is about 14%: under the 20% that switched it on, over the 10% that switches it off.
    for (let i = 0; i < 700; i++) {
      conflictRate.note(key, i % 7 === 0 ? 'existed' : 'created');
      expect(conflictRate.common(key)).toBe(true);
    }
    for (let i = 0; i < 200; i++) conflictRate.note(key, 'created');
    expect(conflictRate.common(key)).toBe(false);
    for (let i = 0; i < 700; i++) {
      conflictRate.note(key, i % 7 === 0 ? 'taken' : 'created');
      expect(conflictRate.common(key)).toBe(false);
    }
  });

  it('learns per key', () => {
    const hot = newKey();
    const cold = newKey();
    for (let i = 0; i < 20; i++) {
      conflictRate.note(hot, 'taken');
      conflictRate.note(cold, 'created');
    }
    expect(conflictRate.common(hot)).toBe(true);
    expect(conflictRate.common(cold)).toBe(false);
  });

  it('leaves the combined statement for a key whose conflicts are races it cannot serve', () => {
    // Many creators racing for each new key: 35% of the calls conflict, all with rows committed
    // while the statement waited (the combined statement then needs a second one anyway).
    const key = newKey();
    let combinedCalls = 0;
    for (let i = 0; i < 2000; i++) if (call(key, i % 20 < 7 ? 'racing' : 'new')) combinedCalls++;
    // It tries the combined statement now and then (the bare insert cannot tell a race from a
    // row that existed), but runs the bare insert for the great majority of calls.
    expect(combinedCalls).toBeGreaterThan(0);
    expect(combinedCalls).toBeLessThan(200);
  });

  it('keeps the combined statement when the conflicts are rows that existed', () => {
    const key = newKey();
    let combinedCalls = 0;
    for (let i = 0; i < 2000; i++) if (call(key, i % 20 < 7 ? 'existing' : 'new')) combinedCalls++;
    expect(combinedCalls).toBeGreaterThan(1950);
  });

  it('comes back to the combined statement once the rows of a fully raced key exist', () => {
    // Every call raced: the estimate of "the row existed" sinks while the combined statement
    // runs, and only the drift on the bare insert's conflicts can lift it again.
    const key = newKey();
    for (let i = 0; i < 2000; i++) call(key, 'racing');
    let lastBare = -1;
    for (let i = 0; i < 2000; i++) if (!call(key, 'existing')) lastBare = i;
    expect(lastBare).toBeGreaterThanOrEqual(0);
    expect(lastBare).toBeLessThan(400);
  });

  it('tries the combined statement rarely on a key where every conflict is a race', () => {
    const key = newKey();
    let combinedCalls = 0;
    for (let i = 0; i < 20_000; i++) if (call(key, 'racing')) combinedCalls++;
    expect(combinedCalls).toBeGreaterThan(0);
    expect(combinedCalls).toBeLessThan(1000);
  });

  it('stays on the combined statement while half of its conflicts are rows that existed', () => {
    // Existing rows must lift the estimate as races lower it: half of each saves a statement
    // on every second call, far over the 10% that leaves.
    const key = newKey();
    let combinedCalls = 0;
    for (let i = 0; i < 2000; i++) if (call(key, i % 2 ? 'existing' : 'racing')) combinedCalls++;
    expect(combinedCalls).toBeGreaterThan(1900);
  });

  it('pins a choice until the next reset', () => {
    const key = newKey();
    conflictRate.reset(key, true);
    for (let i = 0; i < 500; i++) conflictRate.note(key, 'created');
    expect(conflictRate.common(key)).toBe(true);
    conflictRate.reset(key);
    expect(conflictRate.common(key)).toBe(false);
  });
});
