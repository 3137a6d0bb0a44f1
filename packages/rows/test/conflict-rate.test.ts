import { describe, expect, it } from 'vitest';
import { conflictRate } from '../src/conflict-rate.js';
import type { UniqueKey } from '../src/table-meta.js';

const newKey = (): UniqueKey => ({ keys: ['name'], columns: [], name: undefined, primary: false });

describe('conflictRate', () => {
  it('starts with the bare insert and switches once about a fifth of the calls found their row', () => {
    const key = newKey();
    expect(conflictRate.common(key)).toBe(false);
    for (let i = 0; i < 7; i++) conflictRate.note(key, true);
    expect(conflictRate.common(key)).toBe(false);
    conflictRate.note(key, true);
    expect(conflictRate.common(key)).toBe(true);
  });

  it('keeps its choice while the share hovers between the two thresholds', () => {
    const key = newKey();
    for (let i = 0; i < 8; i++) conflictRate.note(key, true);
    expect(conflictRate.common(key)).toBe(true);
    // One taken call in seven is about 14%: under the 20% that switched it on, over the 10% that switches it off.
    for (let i = 0; i < 700; i++) {
      conflictRate.note(key, i % 7 === 0);
      expect(conflictRate.common(key)).toBe(true);
    }
    for (let i = 0; i < 200; i++) conflictRate.note(key, false);
    expect(conflictRate.common(key)).toBe(false);
    for (let i = 0; i < 700; i++) {
      conflictRate.note(key, i % 7 === 0);
      expect(conflictRate.common(key)).toBe(false);
    }
  });

  it('learns per key', () => {
    const hot = newKey();
    const cold = newKey();
    for (let i = 0; i < 20; i++) {
      conflictRate.note(hot, true);
      conflictRate.note(cold, false);
    }
    expect(conflictRate.common(hot)).toBe(true);
    expect(conflictRate.common(cold)).toBe(false);
  });
});
